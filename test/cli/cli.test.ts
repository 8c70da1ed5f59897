import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDriftNpz } from '../../src/io/npz.js';
import { readCsvTable } from '../../src/io/csv.js';
import { runCli } from '../helpers/cli.js';
import { expectClose, rmseAfterOffset } from '../helpers/expectClose.js';
import { findPython, haveSharedFixtures, runPython, sharedFixture, sharedSkipReason } from '../helpers/fixtures.js';

/**
 * A small dataset (8 windows, 40k localizations) keeps the CLI tests quick; the bound covers
 * the difference between each window's mean drift and the per-frame truth. Accuracy at the
 * seed's size is tested in test/core/drift (≤ 2 nm).
 */
const SMALL_RMSE_NM = 8;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ccdrift-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ccdrift simulate → locs → apply → drift', () => {
  it('corrects a simulated dataset and writes every output', () => {
    let r = runCli(['simulate', '-o', 'worms.csv', '--frames', '8000', '--locs', '40000', '--seed', '4', '--field', '10000'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'worms.truth.npz'))).toBe(true);
    r = runCli(
      [
        'locs',
        'worms.csv',
        '-o',
        'corr.csv',
        '--drift-out',
        'drift.npz',
        '--plot',
        'drift.svg',
        '--per-frame',
        'pf.csv',
        '--step',
        '1000',
        '--window',
        '1000',
        '--binsize',
        '20',
        '--workers',
        '2',
      ],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['corr.csv', 'drift.npz', 'drift.svg', 'pf.csv']) expect(existsSync(join(dir, f)), f).toBe(true);
    expect(readFileSync(join(dir, 'drift.svg'), 'utf8')).toContain('correction added (nm)');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('the per-frame drift matches the truth', async () => {
    const truth = await readDriftNpz(join(dir, 'worms.truth.npz'));
    const pf = readFileSync(join(dir, 'pf.csv'), 'utf8').trim().split('\n');
    expect(pf[0]).toBe('t,x,y,z,sd_x,sd_y,sd_z');
    const rows = pf.slice(1).map((l) => l.split(',').map(Number));
    const inside = rows.filter((r) => r[0] >= 500 && r[0] <= 7500);
    const ex = inside.map((r) => r[1]);
    const tx = inside.map((r) => truth.x[r[0]]);
    expect(rmseAfterOffset(ex, tx)).toBeLessThan(SMALL_RMSE_NM);
  });

  it('apply with the written drift reproduces the locs correction; the table keeps its columns', async () => {
    const r = runCli(['apply', 'worms.csv', '--drift', 'drift.npz', '-o', 'applied.csv'], dir);
    expect(r.code, r.stderr).toBe(0);
    const a = await readCsvTable(join(dir, 'applied.csv'));
    const b = await readCsvTable(join(dir, 'corr.csv'));
    const orig = await readCsvTable(join(dir, 'worms.csv'));
    for (const c of orig.columns.keys()) expect(a.columns.has(c), c).toBe(true);
    expectClose(a.columns.get('x')!, b.columns.get('x')!, { atol: 1e-9 });
    expectClose(a.columns.get('dy')!, b.columns.get('dy')!, { atol: 1e-9 });
  });

  it('applying twice composes dx (not replaces it)', async () => {
    const r = runCli(['apply', 'applied.csv', '--drift', 'drift.npz', '-o', 'twice.csv'], dir);
    expect(r.code, r.stderr).toBe(0);
    const once = await readCsvTable(join(dir, 'applied.csv'));
    const twice = await readCsvTable(join(dir, 'twice.csv'));
    const d1 = once.columns.get('dx')!;
    expectClose(
      twice.columns.get('dx')!,
      Array.from(d1, (v) => 2 * v),
      { atol: 1e-9 },
    );
  });

  it('drift writes the summed per-frame drift of several files', async () => {
    const r = runCli(['drift', 'drift.npz', 'drift.npz', '--frames', '0:100', '-o', 'sum.csv'], dir);
    expect(r.code, r.stderr).toBe(0);
    const rows = readFileSync(join(dir, 'sum.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',').map(Number));
    expect(rows.length).toBe(100);
    const single = runCli(['drift', 'drift.npz', '--frames', '0:100', '-o', 'one.csv'], dir);
    expect(single.code).toBe(0);
    const one = readFileSync(join(dir, 'one.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',').map(Number));
    expectClose(
      rows.map((r) => r[1]),
      one.map((r) => 2 * r[1]),
      { atol: 1e-9 },
    );
  });

  it('info describes a table and a drift file', () => {
    const r = runCli(['info', 'worms.csv'], dir);
    expect(r.code, r.stderr).toBe(0);
    // One layout for every format (issue 13): kind, rows, columns, frames, extent, metadata.
    expect(r.stdout).toMatch(/rows: 40,000/);
    expect(r.stdout).toMatch(/frames: 0 – 7,999/);
    expect(r.stdout).not.toMatch(/ccdrift\.csv\./);
    const d = runCli(['info', 'drift.npz'], dir);
    expect(d.stdout).toMatch(/samples: \d+/);
  });
});

describe('bad input: one clear line, exit code, nothing written', () => {
  it('a missing t column', () => {
    writeFileSync(join(dir, 'not.csv'), 'x,y\n1,2\n3,4\n');
    const r = runCli(['locs', 'not.csv', '-o', 'out1.csv'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not\.csv/);
    expect(r.stderr.trim().split('\n').length).toBe(1);
    expect(existsSync(join(dir, 'out1.csv'))).toBe(false);
  });
  it('window < step is a usage error (exit 2)', () => {
    const r = runCli(['locs', 'worms.csv', '-o', 'out2.csv', '--step', '1000', '--window', '10'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--window (10 frames) is shorter than --step (1000); the window must be ≥ the step');
    expect(existsSync(join(dir, 'out2.csv'))).toBe(false);
  });
  it('a single frame', () => {
    writeFileSync(join(dir, 'one.csv'), 'x,y,t\n1,2,5\n3,4,5\n');
    const r = runCli(['locs', 'one.csv', '-o', 'out3.csv'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/every localization is in frame 5/);
  });
  it('NaN coordinates name the row', () => {
    writeFileSync(join(dir, 'nan.csv'), 'x,y,t\n1,2,0\n,4,1\n5,6,2\n');
    const r = runCli(['locs', 'nan.csv', '-o', 'out4.csv'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nan\.csv/);
    expect(existsSync(join(dir, 'out4.csv'))).toBe(false);
  });
  it('an unknown extension (usage, exit 2)', () => {
    const r = runCli(['locs', 'worms.csv', '-o', 'out.xyz'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/out\.xyz: cannot write localization tables with extension '\.xyz'/);
  });
  it('no localizations in the frame range of the drift request', () => {
    const r = runCli(['drift', 'drift.npz', '--frames', '10:5', '-o', 'x.csv'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--frames 10:5/);
  });
  it('refuses to overwrite the input', () => {
    const before = readFileSync(join(dir, 'worms.csv'));
    const r = runCli(['apply', 'worms.csv', '--drift', 'drift.npz', '-o', 'worms.csv'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/-o worms.csv is the input file worms.csv: ccdrift never writes over an input/);
    expect(readFileSync(join(dir, 'worms.csv')).equals(before)).toBe(true);
  });
  it('a bad number flag', () => {
    const r = runCli(['locs', 'worms.csv', '-o', 'o.csv', '--binsize', 'abc'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--binsize expects a number or 'auto', got 'abc'/);
  });
});

describe.skipIf(!haveSharedFixtures)("the original plugin's drift.npz", () => {
  const python = findPython('numpy', 'scipy');
  it.skipIf(!python)('applied with --extrapolation spline corrects exactly as the original (SciPy UnivariateSpline, s default)', async () => {
    copyFileSync(sharedFixture('seed-example', 'drift.npz'), join(dir, 'seed_drift.npz'));
    const frames = [0, 1, 250, 1000, 7321, 15000, 29999, 30500];
    writeFileSync(join(dir, 'pts.csv'), 'x,y,t\n' + frames.map((f, i) => `${1000 + i},${2000 - i},${f}`).join('\n') + '\n');
    const r = runCli(['apply', 'pts.csv', '--drift', 'seed_drift.npz', '--extrapolation', 'spline', '-o', 'pts_corr.csv'], dir);
    expect(r.code, r.stderr).toBe(0);
    const out = await readCsvTable(join(dir, 'pts_corr.csv'));
    const ref = JSON.parse(
      runPython(
        python!,
        `import json, sys, numpy as np
from scipy.interpolate import UnivariateSpline
d = np.load(sys.argv[1]); t = np.array(json.loads(sys.argv[2]), float)
print(json.dumps([UnivariateSpline(d['tIndex'], d['drift'][:, a], k=3)(t).tolist() for a in range(2)]))`,
        [join(dir, 'seed_drift.npz'), JSON.stringify(frames)],
      ),
    );
    expectClose(out.columns.get('dx')!, ref[0], { rtol: 1e-9, atol: 1e-9 });
    expectClose(
      out.columns.get('x')!,
      frames.map((_, i) => 1000 + i + ref[0][i]),
      { rtol: 1e-9, atol: 1e-9 },
    );
    expectClose(
      out.columns.get('y')!,
      frames.map((_, i) => 2000 - i + ref[1][i]),
      { rtol: 1e-9, atol: 1e-9 },
    );
  });
  it('is skipped without the shared fixtures', () => {
    expect(sharedSkipReason).toMatch(/skipped/);
  });
});
