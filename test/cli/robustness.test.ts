/**
 * Issue 12 — bad input and faults, tried as a careless user would: memory asked for that
 * cannot exist (refused before allocating, naming the cause and the size), vague or raw
 * messages, outputs all or nothing, a full disk, a virtual-memory limit, SIGKILL. Each case runs
 * the built CLI; fixtures: test/fixtures/make_robustness_fixtures.py.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/fixtures.js';
import { readImageStack, readTable } from '../../src/io/index.js';
import { readDriftNpz } from '../../src/io/npz.js';
import { describeError } from '../../src/cli/errorMessage.js';
import { MemoryLimitError, memoryLimit, setMemoryLimit } from '../../src/core/memoryLimit.js';
import { createDriftInterpolator, sampleDriftPerFrame } from '../../src/core/drift/driftInterpolator.js';

const FIX = join(repoRoot, 'test', 'fixtures', 'robustness');
let dir: string;
/** 8000 localizations (about 1 MB as CSV: more than the small disk below) with a known drift. */
let sim: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ccdrift-robust-'));
  sim = join(dir, 'sim.csv');
  expect(runCli(['simulate', '-o', sim, '--frames', '1000', '--locs', '8000', '-q'], dir).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The message the CLI would print for what `promise` rejects with (it must reject). */
async function messageOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    const m = describeError(err).message;
    expectClean(m);
    return m;
  }
  throw new Error('expected an error');
}

/** No stack trace, no raw Node error code. */
function expectClean(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toMatch(/\b(ENOSPC|EISDIR|ENOENT|EACCES|RangeError|TypeError)\b/);
}

/** The simulated table with one cell replaced (row counted from 1 below the header). */
function withCell(name: string, row: number, column: string, value: string): string {
  const lines = readFileSync(sim, 'utf8').split('\n');
  const c = lines[0].split(',').indexOf(column);
  const cells = lines[row].split(',');
  cells[c] = value;
  lines[row] = cells.join(',');
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n'));
  return path;
}

/** A little-endian TIFF of one uncompressed uint16 page declaring `w` × `h` pixels. */
function tiffDeclaring(w: number, h: number): Buffer {
  const entries: [number, number, number][] = [
    [256, 4, w],
    [257, 4, h],
    [258, 3, 16],
    [259, 3, 1],
    [262, 3, 1],
    [273, 4, 200],
    [277, 3, 1],
    [278, 4, h],
    [279, 4, 100],
  ];
  const buf = Buffer.alloc(300);
  buf.write('II*\0', 0, 'latin1');
  buf.writeUInt32LE(8, 4);
  buf.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, value], i) => {
    const p = 10 + 12 * i;
    buf.writeUInt16LE(tag, p);
    buf.writeUInt16LE(type, p + 2);
    buf.writeUInt32LE(1, p + 4);
    if (type === 4) buf.writeUInt32LE(value, p + 8);
    else buf.writeUInt16LE(value, p + 8);
  });
  return buf;
}

describe('memory that cannot exist is refused before it is asked for', () => {
  it('a coordinate of 1e30 nm or a frame of 1e15: refused at reading with file, column and row (they used to hang)', async () => {
    expect(await messageOf(readTable(withCell('c1e30.csv', 6, 'x', '1e30')))).toMatch(/c1e30\.csv: column x has 1e\+30 nm at row 6/);
    expect(await messageOf(readTable(withCell('f1e15.csv', 9, 't', '1e15')))).toMatch(/f1e15\.csv: column t \(frame\) has 1000000000000000 at row 9/);
  });

  it('per-frame arrays beyond the limit are refused with the frames and the size', () => {
    const saved = memoryLimit();
    setMemoryLimit(2 ** 20, 'this test allows 1 MiB');
    try {
      const interp = createDriftInterpolator([{ t: Float64Array.of(0, 10, 20), x: new Float64Array(3), y: new Float64Array(3), z: new Float64Array(3) }], {
        smoothing: 0,
        degree: 1,
      });
      expect(() => sampleDriftPerFrame(interp, 0, 999_999)).toThrow(MemoryLimitError);
      expect(() => sampleDriftPerFrame(interp, 0, 999_999)).toThrow(/per-frame drift of frames 0–999999 would need 30\.5 MiB, but this test allows 1 MiB/);
      expect(sampleDriftPerFrame(interp, 0, 99).t.length).toBe(100);
    } finally {
      setMemoryLimit(saved.bytes, saved.source);
    }
  });

  it('--binsize 1e-6: the histogram size, the bin size and the fix, before allocating', () => {
    const r = runCli(['locs', sim, '-o', 'o.csv', '-q', '--binsize', '1e-6'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the RCC histogram of \d+ × \d+ bins \(binsize 0\.000001 nm .*\) would need .* but this machine has .*--binsize/);
    expectClean(r.stderr);
  });

  it('drift --frames 0:1e12: the frame range and the size', () => {
    const r = runCli(['drift', join(FIX, 'drift_ok.npz'), '-o', 'pf.csv', '--frames', '0:1000000000000'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/per-frame drift of frames 0–999999999999 would need [\d.]+ TiB/);
    expect(existsSync(join(dir, 'pf.csv'))).toBe(false);
    expectClean(r.stderr);
  });

  it('a huge --padding: refused before the drift is measured, naming --padding (padding_multipler in a recipe)', () => {
    expect(runCli(['simulate', '--images', '-o', 'st.tif', '--frames', '6', '-q'], dir).code).toBe(0);
    // (the stack is read, and the padding refused, before any drift is measured)
    const r = runCli(['images', 'st.tif', '-o', 'sc.tif', '--padding', '1e6', '--workers', '1'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/zero-padded frame for the Fourier shift .* --padding 1000000 .* would need .*give a smaller --padding/);
    expect(r.stderr).not.toMatch(/Image_RCC:/); // found before the work, not after it
    expectClean(r.stderr);
  });

  it("a recipe's Image_Post_Shift padding: refused before the RCC runs, naming the recipe item", () => {
    if (!existsSync(join(dir, 'st.tif'))) expect(runCli(['simulate', '--images', '-o', 'st.tif', '--frames', '6', '-q'], dir).code).toBe(0);
    writeFileSync(
      join(dir, 'pad.yaml'),
      '- chung_cc.Image_RCC:\n    input_image: input\n    output_drift: drift\n    output_drift_plot: p1\n- chung_cc.Drift_Interpolate:\n    input_drift_raw: drift\n- chung_cc.Image_Post_Shift:\n    input_image: input\n    padding_multipler: 1000000\n',
    );
    const r = runCli(['run', 'pad.yaml', 'st.tif', '-o', 'padded', '--workers', '1'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pad\.yaml: chung_cc\.Image_Post_Shift \(item 3\): the zero-padded frame .* padding_multipler 1000000 .* would need/);
    expect(r.stderr).not.toMatch(/\[1\/3\]/); // no step ran
    expect(existsSync(join(dir, 'padded'))).toBe(false);
    expectClean(r.stderr);
  });

  it('simulate: every flag checked before the work, naming the flag; memory and disk before they are used', () => {
    const cases: [string[], number, RegExp][] = [
      [['--frames', '-5'], 2, /--frames must be a whole number ≥ 2, got -5/],
      [['--locs', '2.5'], 2, /--locs must be a whole number ≥ 1, got 2\.5/],
      [['--jumps', '0'], 2, /--jumps expects frames between 1 and 29999 \(--frames 30000\), got 0/],
      [
        ['--beads', '1e9'],
        1,
        /the simulated table \(30000000130000 rows: 130000 localizations \+ 1000000000 beads × 30000 frames.*would need [\d.]+ PiB, but .*; simulate fewer localizations, beads or frames/,
      ],
      [['--field', '1e9'], 1, /filaments of about .* would need .*simulate a smaller field/],
      [['--images', '--frames', '1e12'], 1, /the drift trace \(1000000000000 frames.*would need [\d.]+ TiB/],
    ];
    for (const [flags, code, message] of cases) {
      const out = flags.includes('--images') ? 'sim_bad.tif' : 'sim_bad.csv';
      const r = runCli(['simulate', '-o', out, ...flags], dir);
      expect(r.code, `${flags.join(' ')}: ${r.stderr}`).toBe(code);
      expect(r.stderr).toMatch(message);
      expectClean(r.stderr);
      expect(existsSync(join(dir, out))).toBe(false);
    }
    // The output is checked before anything is simulated (no 130 000 rows made to be refused).
    const bad = runCli(['simulate', '-o', 'nowhere/s.csv'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/-o nowhere\/s\.csv: the folder .*nowhere does not exist/);
  });

  it('a TIFF declaring absurd dimensions: beyond memory, or beyond the file', async () => {
    writeFileSync(join(dir, 'huge.tif'), tiffDeclaring(1_000_000, 1_000_000));
    writeFileSync(join(dir, 'big.tif'), tiffDeclaring(100_000, 100_000));
    const vs = { voxelSizeNm: [100, 100, 100] as [number, number, number] };
    expect(await messageOf(readImageStack(join(dir, 'huge.tif'), vs))).toMatch(
      /one frame of .*huge\.tif \(1000000 × 1000000 uint16 pixels, as the file declares\) would need [\d.]+ TiB/,
    );
    expect(await messageOf(readImageStack(join(dir, 'big.tif'), vs))).toMatch(
      /big\.tif: the TIFF declares 1 images of 100000 × 100000 uint16 pixels .* but the file holds only 300 bytes/,
    );
  });

  it('HDF5 image and table declaring absurd sizes (chunked, never written)', async () => {
    expect(await messageOf(readImageStack(join(FIX, 'huge_image.h5')))).toMatch(
      /one frame of .*huge_image\.h5 \(\/ImageData: 1000000 × 1000000 uint16 pixels, as the file declares\) would need/,
    );
    expect(await messageOf(readTable(join(FIX, 'huge_table.h5r')))).toMatch(
      /huge_table\.h5r: the table \/FitResults \(100000000000 rows of 3 columns, as the file declares\) would need/,
    );
  });
});

describe('messages name the file and say what was expected', () => {
  it('a header-only CSV names the file and its columns', async () => {
    writeFileSync(join(dir, 'hdr.csv'), 'x,y,t\n');
    expect(await messageOf(readTable(join(dir, 'hdr.csv')))).toContain('hdr.csv: the file has columns (x, y, t) but no localizations');
  });

  it('UTF-16 text, random bytes and known binary formats given as CSV are named', async () => {
    writeFileSync(join(dir, 'u16.csv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('x,y,t\n1,2,3\n', 'utf16le')]));
    writeFileSync(join(dir, 'u16nobom.csv'), Buffer.from('x,y,t\n1,2,3\n4,5,6\n', 'utf16le'));
    let seed = 7;
    writeFileSync(join(dir, 'rand.csv'), Buffer.from(Array.from({ length: 4096 }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) >> 16) & 255)));
    writeFileSync(join(dir, 'zip.csv'), Buffer.from('PK\u0003\u0004rest', 'latin1'));
    const cases: [string, RegExp][] = [
      ['u16.csv', /u16\.csv: the file is UTF-16 text \(byte-order mark FF FE\); CSV is read as UTF-8/],
      ['u16nobom.csv', /u16nobom\.csv: the file is UTF-16 text; CSV is read as UTF-8/],
      ['rand.csv', /rand\.csv: the file is binary, not CSV text/],
      ['zip.csv', /zip\.csv: this is a zip archive \(an \.npz file\?\), not CSV text/],
    ];
    for (const [file, message] of cases) expect(await messageOf(readTable(join(dir, file))), file).toMatch(message);
  });

  it('a string-typed x in HDF5 is reported as such, not as a missing column', async () => {
    expect(await messageOf(readTable(join(FIX, 'string_x.h5r')))).toMatch(/string_x\.h5r: column x is a string, expected numbers/);
  });

  it('drift files: tIndex out of order and a single sample name the file', async () => {
    expect(await messageOf(readDriftNpz(join(FIX, 'drift_unordered.npz')))).toMatch(
      /drift_unordered\.npz: key 'tIndex' \(the sample times, frames\) must increase, but tIndex\[0\] = 100 and tIndex\[1\] = 50/,
    );
    const r = runCli(['drift', join(FIX, 'drift_one_sample.npz'), '-o', 'b.csv'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/drift_one_sample\.npz: the drift file holds one sample \(tIndex = \[100\]\)/);
  });

  it('ThunderSTORM frames starting at 0 are read, with a warning', async () => {
    const ts = readFileSync(join(repoRoot, 'test', 'fixtures', 'csv', 'thunderstorm.csv'), 'utf8').replace(/^([\d.]+),1\.0,/gm, '$1,0.0,');
    writeFileSync(join(dir, 'ts0.csv'), ts);
    const warnings: string[] = [];
    const table = await readTable(join(dir, 'ts0.csv'), { progress: { warn: (m) => warnings.push(m) } });
    expect(table.columns.get('t')![0]).toBe(-1);
    expect(warnings.join('\n')).toMatch(/ts0\.csv: column 'frame' has frame 0, but ThunderSTORM numbers frames from 1/);
  });

  it('file-system errors in words, naming the path (no raw codes)', async () => {
    mkdirSync(join(dir, 'folder.csv'), { recursive: true });
    expect(await messageOf(readTable(join(dir, 'folder.csv')))).toMatch(/folder\.csv: is a folder, expected a file/);
    expect(await messageOf(readDriftNpz(join(dir, 'missing.npz')))).toMatch(/missing\.npz: no such file/);
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      syscall: 'write',
      path: join(dir, '.out.csv.123.0a1b2c3d.tmp'),
    });
    expect(describeError(enospc).message).toBe(
      `${join(dir, 'out.csv')}: no space left on the device (the disk is full); free some space or write elsewhere (while writing it)`,
    );
    const eacces = Object.assign(new Error("EACCES: permission denied, open '/x/y.csv'"), { code: 'EACCES', syscall: 'open' });
    expect(describeError(eacces).message).toBe('/x/y.csv: permission denied (while opening it)');
    const wasm = new RangeError('WebAssembly.instantiate(): Out of memory: Cannot allocate Wasm memory for new instance');
    expect(describeError(wasm).message).toMatch(
      /WebAssembly .* could not reserve its address space.*NODE_OPTIONS=--disable-wasm-trap-handler.*ulimit -v unlimited/,
    );
  });
});

describe('a virtual-memory limit (ulimit -v), as some clusters set', () => {
  it('a run succeeds under ulimit -v 8G (WebAssembly without its 10 GiB reservation)', () => {
    const r = spawnSync(
      'bash',
      [
        '-c',
        `ulimit -v 8000000 && exec "${process.execPath}" "${join(repoRoot, 'bin', 'ccdrift.js')}" drift "${join(FIX, 'drift_ok.npz')}" -o ul.csv --plot ul.svg`,
      ],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    expect(r.stderr).not.toMatch(/Aborted|RuntimeError|^\s+at /m);
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, 'ul.csv')) && existsSync(join(dir, 'ul.svg'))).toBe(true);
  });
});

/** Mount a 256 KiB tmpfs; undefined (with the reason printed) where mounting is not allowed. */
function mountSmallDisk(): string | undefined {
  const mnt = join(dir, 'small-disk');
  mkdirSync(mnt, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.warn(`skipped the full-disk tests: cannot mount a tmpfs here (${(r.stderr || r.error?.message || '').trim()})`);
    return undefined;
  }
  return mnt;
}

describe('a full disk', () => {
  it('says so naming the output, and leaves neither that output nor the ones before it, nor temporaries', () => {
    const mnt = mountSmallDisk();
    if (!mnt) return;
    try {
      // The corrected table (~1 MB) cannot fit on a 256 KiB disk.
      let r = runCli(['locs', sim, '-o', join(mnt, 'out.csv'), '-q', '--workers', '2'], dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${join(mnt, 'out.csv')}: no space left on the device (the disk is full)`);
      expectClean(r.stderr);
      expect(readdirSync(mnt)).toEqual([]);
      // The same through HDF5 (h5wasm writes on its own; a short write used to truncate silently).
      r = runCli(['locs', sim, '-o', join(mnt, 'out.hdf'), '-q', '--workers', '2'], dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${join(mnt, 'out.hdf')}: no space left on the device (the disk is full)`);
      expectClean(r.stderr);
      expect(readdirSync(mnt)).toEqual([]);
      // All or nothing: the table goes to a roomy folder and is written first; the drift file
      // then fails on the full disk, and the table must not remain.
      try {
        writeFileSync(join(mnt, 'filler'), Buffer.alloc(2 * 1024 * 1024)); // fills the disk to the last byte
      } catch {
        /* ENOSPC expected */
      }
      r = runCli(['locs', sim, '-o', 'first.csv', '--drift-out', join(mnt, 'd.npz'), '-q', '--workers', '2'], dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/d\.npz: no space left on the device/);
      expect(r.stderr).toMatch(/nothing written: the output finished before the error \(first\.csv\) discarded/);
      expect(existsSync(join(dir, 'first.csv'))).toBe(false);
      expect(readdirSync(mnt)).toEqual(['filler']);
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});

describe('SIGKILL mid-run', () => {
  it('leaves a cache and a temporary that the next run removes and names', async () => {
    const scratch = join(dir, 'scratch');
    mkdirSync(scratch, { recursive: true });
    // A tiny memory budget sends the spectra to the disk cache in TMPDIR, named with the pid.
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin', 'ccdrift.js'),
        'locs',
        sim,
        '-o',
        join(scratch, 'out.csv'),
        '--memory-budget',
        '1',
        '--correlation',
        'fft',
        '--binsize',
        '10',
        '--workers',
        '1',
      ],
      { cwd: dir, stdio: 'ignore', env: { ...process.env, TMPDIR: scratch } },
    );
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const deadline = Date.now() + 60_000;
    const cacheOf = () => readdirSync(scratch).find((f) => /^ccdrift-fft-\d+-[0-9a-f]{8}\.cache$/.test(f));
    while (!cacheOf() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(cacheOf(), 'the FFT cache appeared').toBeDefined();
    child.kill('SIGKILL');
    await exited;
    const cache = join(scratch, cacheOf()!);
    expect(existsSync(cache)).toBe(true);
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'ccdrift.js'), 'drift', join(FIX, 'drift_ok.npz'), '-o', join(scratch, 'next.csv')], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, TMPDIR: scratch },
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`removed ${cache}, left behind by a ccdrift run that no longer exists`);
    expect(existsSync(cache)).toBe(false);
  });
});
