import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BatchFailedError, expandGlob, expandInputs, formatSummary, runBatch } from '../../src/cli/batch.js';
import { simulateLocalizations } from '../../src/core/simulate/index.js';
import type { DriftTrace, LocTable } from '../../src/core/types.js';
import '../../src/io/index.js';
import { readTable, writeTable } from '../../src/io/formats.js';
import { runCli } from '../helpers/cli.js';
import { expectClose, rmseAfterOffset } from '../helpers/expectClose.js';
import { findPython, runPython } from '../helpers/fixtures.js';

/**
 * Small datasets keep these CLI tests quick (a few seconds per correction); the bound covers a
 * small dataset's drift error (accuracy at full size is tested in test/core/drift).
 */
const SMALL_RMSE_NM = 8;
/** Per-frame drift files printed at full float64 precision (or %.18e): applying them is exact. */
const SAME_CORRECTION_NM = 1e-6;
const PIXEL_NM = 108;
const FRAMES = 3000;
const LOCS = 15000;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ccdrift-batch-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function touch(path: string, text = ''): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

describe('expandGlob / expandInputs', () => {
  it('matches *, ?, [..] within a folder and ** across folders, sorted, no dotfiles', () => {
    const root = mkdtempSync(join(dir, 'glob-'));
    for (const f of ['a.csv', 'b.csv', 'c.hdf5', '.hidden.csv', 'sub/d.csv', 'sub/deep/e.csv', 'sub/f.txt']) touch(join(root, f));
    const rel = (list: string[]) => list.map((p) => p.slice(root.length + 1));
    expect(rel(expandGlob(`${root}/*.csv`))).toEqual(['a.csv', 'b.csv']);
    expect(rel(expandGlob(`${root}/?.hdf5`))).toEqual(['c.hdf5']);
    expect(rel(expandGlob(`${root}/[ab].csv`))).toEqual(['a.csv', 'b.csv']);
    expect(rel(expandGlob(`${root}/[!a].csv`))).toEqual(['b.csv']);
    expect(rel(expandGlob(`${root}/**/*.csv`))).toEqual(['a.csv', 'b.csv', 'sub/d.csv', 'sub/deep/e.csv']);
    expect(rel(expandGlob(`${root}/sub/*`))).toEqual(['sub/f.txt', 'sub/d.csv'].sort());
    expect(expandGlob(`${root}/*.none`)).toEqual([]);
  });
  it('keeps readable inputs, skips ccdrift outputs, reports globs that match nothing', () => {
    const root = mkdtempSync(join(dir, 'inputs-'));
    for (const f of ['a.csv', 'a_undrift.csv', 'a_drift.csv', 'a.yaml', 'b.hdf5']) touch(join(root, f));
    const r = expandInputs([`${root}/*`, `${root}/b.hdf5`, `${root}/*.tif`, 'literal_missing.csv'], (p) => /\.(csv|hdf5)$/.test(p));
    expect(r.files.map((f) => f.replace(/^.*\//, ''))).toEqual(['a.csv', 'b.hdf5', 'literal_missing.csv']);
    expect(r.skipped.map((f) => f.replace(/^.*\//, ''))).toEqual(['a_drift.csv', 'a_undrift.csv']);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0].message).toMatch(/\*\.tif': no file matches it/);
  });
  it('formats a summary table with one line per file', () => {
    const text = formatSummary([
      { input: 'a.csv', rows: 10, span: 'x 0.0 … 1.0, y 0.0 … 2.0', result: 'ok', ok: true },
      { input: 'bad.csv', result: 'no t column', ok: false },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^file\s+rows\s+drift span \(nm\)\s+result$/);
    expect(lines[1]).toMatch(/^a\.csv\s+10\s+x 0\.0 … 1\.0, y 0\.0 … 2\.0\s+ok$/);
    expect(lines[2]).toMatch(/^bad\.csv\s+—\s+—\s+FAILED: no t column$/);
    expect(lines[3]).toBe('1 of 2 file(s) corrected, 1 failed');
  });
});

describe('folders the run makes (a new --out-dir)', () => {
  it('are made when their file runs, after the checks; a file refused by its checks leaves none', async () => {
    const refused = join(dir, 'made', 'refused');
    const ran = join(dir, 'made', 'ran', 'deep');
    const seen: boolean[] = [];
    const quiet = vi.spyOn(process.stdout, 'write').mockReturnValue(true);
    const quietErr = vi.spyOn(process.stderr, 'write').mockReturnValue(true);
    try {
      const results = runBatch(
        [
          { input: 'a.csv', outputs: [{ path: join(refused, 'a_undrift.csv'), what: 'output', folderMadeByRun: true }], defaults: [] },
          { input: 'b.csv', outputs: [{ path: join(ran, 'b_undrift.csv'), what: 'output', folderMadeByRun: true }], defaults: [] },
        ],
        new Map([['a.csv', 'a.csv: --format xyz: not a table format']]),
        [],
        async () => {
          seen.push(statSync(ran).isDirectory());
          return {};
        },
        () => {},
      );
      await expect(results).rejects.toBeInstanceOf(BatchFailedError);
    } finally {
      quiet.mockRestore();
      quietErr.mockRestore();
    }
    expect(seen).toEqual([true]);
    expect(existsSync(refused)).toBe(false);
  });
});

describe('outputs without -o, beside the input; never over a file without --force', () => {
  it('locs a.csv writes a_undrift.csv and a_drift.npz; a second run refuses, --force replaces', () => {
    let r = runCli(['simulate', '-o', 'a.csv', '--frames', String(FRAMES), '--locs', String(LOCS), '--seed', '5', '--field', '8000', '-q'], dir);
    expect(r.code, r.stderr).toBe(0);
    r = runCli(['locs', 'a.csv', '--workers', '1', '-q'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'a_undrift.csv'))).toBe(true);
    expect(existsSync(join(dir, 'a_drift.npz'))).toBe(true);
    const before = readFileSync(join(dir, 'a_undrift.csv'));
    r = runCli(['locs', 'a.csv', '--workers', '1', '-q'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a_undrift\.csv already exists.*--force/);
    expect(readFileSync(join(dir, 'a_undrift.csv')).equals(before)).toBe(true);
    r = runCli(['undrift', 'a.csv', '--workers', '1', '-q', '--force'], dir);
    expect(r.code, r.stderr).toBe(0);
  });

  it('-o or a per-file path with several inputs is a usage error that says what to do', () => {
    let r = runCli(['locs', 'a.csv', 'a.csv.missing.csv', '-o', 'x.csv'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/-o names one output.*--out-dir/);
    r = runCli(['locs', 'a.csv', 'other.csv', '--plot', 'drift.png'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--plot drift\.png: with several inputs.*png, svg/);
  });
});

describe('drift files in and out through the CLI', () => {
  it('ccdrift drift prints the per-frame table; every written file applies the same correction', () => {
    const r = runCli(['drift', 'a_drift.npz'], dir);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    // ccdrift's own drift files carry standard errors (issue 15): the table has them too.
    expect(lines[0]).toBe('t,x,y,z,sd_x,sd_y,sd_z');
    expect(lines.length).toBeGreaterThan(100);
    for (const out of ['pf.csv', 'pf.json', 'pf.txt']) {
      const w = runCli(['drift', 'a_drift.npz', '-o', out, '--pixel-size', String(PIXEL_NM), '--frames', `0:${FRAMES}`, '-q'], dir);
      expect(w.code, w.stderr).toBe(0);
    }
    const help = runCli(['drift', '--help'], dir).stdout;
    for (const phrase of ['correction to ADD', 'Picasso SUBTRACTS', 'ThunderSTORM SUBTRACTS', 'camera pixels']) expect(help).toContain(phrase);
  });

  it('apply with the .npz, the per-frame .csv, the Picasso .txt and the ThunderSTORM .json gives the same table', async () => {
    const results: LocTable[] = [];
    for (const drift of ['pf.csv', 'pf.json', 'pf.txt']) {
      const out = `applied_${drift.replace('.', '_')}.csv`;
      const r = runCli(['apply', 'a.csv', '--drift', drift, '-o', out, '--pixel-size', String(PIXEL_NM), '-q'], dir);
      expect(r.code, `${drift}: ${r.stderr}`).toBe(0);
      results.push(await readTable(join(dir, out)));
    }
    const viaNpz = runCli(['apply', 'a.csv', '--drift', 'a_drift.npz', '-o', 'applied_npz.csv', '-q'], dir);
    expect(viaNpz.code, viaNpz.stderr).toBe(0);
    const reference = await readTable(join(dir, 'applied_npz.csv'));
    for (const t of results) {
      expectClose(t.columns.get('x')!, reference.columns.get('x')!, { atol: SAME_CORRECTION_NM }, 'x');
      expectClose(t.columns.get('dy')!, reference.columns.get('dy')!, { atol: SAME_CORRECTION_NM }, 'dy');
    }
  });

  it.skipIf(!findPython('numpy'))('info reads an .npz that also holds a string entry, in the common layout', () => {
    runPython(findPython('numpy')!, `import numpy as np, sys\nnp.savez(sys.argv[1], tIndex=np.arange(4.), drift=np.ones((4, 3)), note=np.array('hand made'))`, [
      join(dir, 'noted.npz'),
    ]);
    const r = runCli(['info', 'noted.npz'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/samples: 4/);
    expect(r.stdout).toMatch(/other entries \(not drift\): note/);
    const a = runCli(['apply', 'a.csv', '--drift', 'noted.npz', '-o', 'noted.csv', '-q'], dir);
    expect(a.code, a.stderr).toBe(0);
  });
});

describe('ThunderSTORM tables and image stacks', () => {
  it('the per-frame drift of a ThunderSTORM table counts frames from 1, as the table does', async () => {
    const a = await readTable(join(dir, 'a.csv'));
    const t = a.columns.get('t')!;
    const x = a.columns.get('x')!;
    const y = a.columns.get('y')!;
    const rows = ['"frame","x [nm]","y [nm]"'];
    for (let i = 0; i < a.length; i++) rows.push(`${t[i] + 1},${x[i]},${y[i]}`);
    writeFileSync(join(dir, 'ts.csv'), `${rows.join('\n')}\n`);
    const r = runCli(['locs', 'ts.csv', '--per-frame', 'csv', '--workers', '1', '-q'], dir);
    expect(r.code, r.stderr).toBe(0);
    const pf = readFileSync(join(dir, 'ts_drift.csv'), 'utf8').trim().split('\n');
    expect(pf[0]).toBe('frame,x,y,z,sd_x,sd_y,sd_z');
    let first = Infinity;
    for (const v of t) first = Math.min(first, v);
    expect(Number(pf[1].split(',')[0])).toBe(first + 1);
    const header = readFileSync(join(dir, 'ts_undrift.csv'), 'utf8').split('\n')[0];
    expect(header).toBe('"frame","x [nm]","y [nm]","dx [nm]","dy [nm]","dz [nm]"');
  });

  it('images: a quoted glob of stacks gives <name>_undrift.tif and <name>_drift.npz per stack', () => {
    for (const seed of ['1', '2']) {
      const r = runCli(['simulate', '--images', '-o', `stack${seed}.tif`, '--frames', '12', '--seed', seed, '-q'], dir);
      expect(r.code, r.stderr).toBe(0);
    }
    const r = runCli(['images', 'stack*.tif', '--out-dir', 'stacks', '-q'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/stack1\.tif\s+12\s+x .* ok/);
    expect(readdirSync(join(dir, 'stacks')).sort()).toEqual(['stack1_drift.npz', 'stack1_undrift.tif', 'stack2_drift.npz', 'stack2_undrift.tif']);
  });
});

/**
 * Two Picasso channels with the same stage drift (channel 2's own simulated drift swapped for
 * channel 1's), as a two-colour acquisition. The batch corrects both; channel 1's Picasso drift
 * .txt then corrects channel 2, whose true positions are known.
 */
describe('Picasso file → batch → _drift.txt → apply on a second channel', () => {
  let truth2: { x: Float64Array; y: Float64Array };
  beforeAll(async () => {
    mkdirSync(join(dir, 'raw'), { recursive: true });
    const ch1 = simulateLocalizations({ frames: FRAMES, locs: LOCS, seed: 11, fieldNm: 8000 });
    const ch2 = simulateLocalizations({ frames: FRAMES, locs: LOCS, seed: 12, fieldNm: 8000 });
    const shared: DriftTrace = ch1.truth;
    const t2 = ch2.table.columns.get('t')!;
    // channel 2's true positions (its own drift removed), then channel 1's drift put on
    truth2 = { x: new Float64Array(ch2.table.length), y: new Float64Array(ch2.table.length) };
    const x2 = Float64Array.from(ch2.table.columns.get('x')!);
    const y2 = Float64Array.from(ch2.table.columns.get('y')!);
    for (let i = 0; i < x2.length; i++) {
      const f = t2[i];
      truth2.x[i] = x2[i] + ch2.truth.x[f];
      truth2.y[i] = y2[i] + ch2.truth.y[f];
      x2[i] = truth2.x[i] - shared.x[f];
      y2[i] = truth2.y[i] - shared.y[f];
    }
    const picasso = (table: LocTable, x: ArrayLike<number>, y: ArrayLike<number>): LocTable => {
      const err = table.columns.get('error_x')!;
      return {
        length: table.length,
        columns: new Map<string, Float64Array | Float32Array | Uint32Array>([
          ['t', Uint32Array.from(table.columns.get('t')!)],
          ['x', Float64Array.from(x)],
          ['y', Float64Array.from(y)],
          ['photons', Float32Array.from(table.columns.get('photons')!)],
          ['lpx', Float32Array.from(err, (v) => v / PIXEL_NM)],
          ['lpy', Float32Array.from(table.columns.get('error_y')!, (v) => v / PIXEL_NM)],
        ]),
        metadata: {},
      };
    };
    await writeTable(join(dir, 'raw', 'ch1_locs.hdf5'), picasso(ch1.table, ch1.table.columns.get('x')!, ch1.table.columns.get('y')!), {
      pixelSizeNm: PIXEL_NM,
    });
    await writeTable(join(dir, 'raw', 'ch2_locs.hdf5'), picasso(ch2.table, x2, y2), { pixelSizeNm: PIXEL_NM });
  });

  it('a quoted glob corrects both files into --out-dir with Picasso names; a broken file is reported and the others go on', () => {
    writeFileSync(join(dir, 'raw', 'broken_locs.hdf5'), 'not hdf5');
    // Two worker threads: the second file reuses the first file's pool, and the process still exits.
    const r = runCli(['undrift', 'raw/*.hdf5', '--out-dir', 'corrected', '--per-frame', 'txt', '--workers', '2', '-q'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/raw\/ch1_locs\.hdf5\s+15000\s+x .* ok/);
    expect(r.stdout).toMatch(/raw\/broken_locs\.hdf5\s+—\s+—\s+FAILED/);
    expect(r.stdout).toMatch(/2 of 3 file\(s\) corrected, 1 failed/);
    expect(r.stderr).toMatch(/broken_locs\.hdf5/);
    const written = readdirSync(join(dir, 'corrected')).sort();
    expect(written).toEqual([
      'ch1_locs_drift.npz',
      'ch1_locs_drift.txt',
      'ch1_locs_undrift.hdf5',
      'ch1_locs_undrift.yaml',
      'ch2_locs_drift.npz',
      'ch2_locs_drift.txt',
      'ch2_locs_undrift.hdf5',
      'ch2_locs_undrift.yaml',
    ]);
    // Picasso's drift file: one row per frame, CRLF, pixels (the yaml's 108 nm, no --pixel-size given)
    const rows = readFileSync(join(dir, 'corrected', 'ch1_locs_drift.txt'), 'utf8')
      .split('\r\n')
      .filter(Boolean);
    expect(rows).toHaveLength(FRAMES);
    rmSync(join(dir, 'raw', 'broken_locs.hdf5'));
  });

  it("channel 1's .txt corrects channel 2 to its true positions (pixel size from channel 2's yaml)", async () => {
    const r = runCli(['apply', 'raw/ch2_locs.hdf5', '--drift', 'corrected/ch1_locs_drift.txt', '-o', 'ch2_from_ch1.hdf5', '-q'], dir);
    expect(r.code, r.stderr).toBe(0);
    const t = await readTable(join(dir, 'ch2_from_ch1.hdf5'));
    expect(t.metadata.Pixelsize).toBe(PIXEL_NM);
    const ex = rmseAfterOffset(t.columns.get('x')!, truth2.x);
    const ey = rmseAfterOffset(t.columns.get('y')!, truth2.y);
    console.log(`Picasso round trip (ch1 .txt applied to ch2): RMSE x ${ex.toFixed(2)} nm, y ${ey.toFixed(2)} nm over ${t.length} localizations`);
    expect(ex).toBeLessThan(SMALL_RMSE_NM);
    expect(ey).toBeLessThan(SMALL_RMSE_NM);
  });

  it('a batch apply writes <name>_undrift beside each input; --pixel-size against the yaml needs --force', () => {
    let r = runCli(['apply', 'raw/*.hdf5', '--drift', 'corrected/ch1_locs_drift.txt', '--out-dir', 'applied', '-q'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(dir, 'applied')).sort()).toEqual([
      'ch1_locs_undrift.hdf5',
      'ch1_locs_undrift.yaml',
      'ch2_locs_undrift.hdf5',
      'ch2_locs_undrift.yaml',
    ]);
    r = runCli(['apply', 'raw/ch2_locs.hdf5', '--drift', 'corrected/ch1_locs_drift.txt', '-o', 'px130.hdf5', '--pixel-size', '130', '-q'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--pixel-size 130 nm disagrees with Pixelsize 108 nm/);
    expect(existsSync(join(dir, 'px130.hdf5'))).toBe(false);
    r = runCli(['apply', 'raw/ch2_locs.hdf5', '--drift', 'corrected/ch1_locs_drift.txt', '-o', 'px130.hdf5', '--pixel-size', '130', '--force', '-q'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(join(dir, 'px130.hdf5')).size).toBeGreaterThan(0);
  });
});
