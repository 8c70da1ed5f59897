import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { findPython, haveSharedFixtures, runPython, sharedFixture } from '../helpers/fixtures.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ccdrift-h5cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('HDF5 formats through the CLI', () => {
  it('Picasso in, Picasso out: the yaml gains a provenance document, pixels stay pixels', () => {
    expect(runCli(['simulate', '-o', 'cell_locs.hdf5', '--frames', '6000', '--locs', '30000', '--field', '8000'], dir).code).toBe(0);
    expect(existsSync(join(dir, 'cell_locs.yaml'))).toBe(true);
    const r = runCli(['locs', 'cell_locs.hdf5', '-o', 'cell_locs_undrift.hdf5', '--step', '1000', '--window', '1000'], dir);
    expect(r.code, r.stderr).toBe(0);
    const yaml = readFileSync(join(dir, 'cell_locs_undrift.yaml'), 'utf8');
    expect(yaml).toMatch(/command: locs/);
    expect(yaml).toMatch(/Pixelsize/);
    const info = runCli(['info', 'cell_locs_undrift.hdf5'], dir);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/30,?000/);
  });

  const tables = findPython('tables');
  it.skipIf(!haveSharedFixtures || !tables)('a real PYME .h5r in, a PYME .hdf out that PyTables reads with every row', () => {
    const r = runCli(['locs', sharedFixture('pyme', '1_2_series_D.h5r'), '-o', 'run_corrected.hdf', '--drift-out', 'drift.npz'], dir);
    expect(r.code, r.stderr).toBe(0);
    const out = runPython(
      tables!,
      `import sys, tables
with tables.open_file(sys.argv[1]) as f:
    t = f.root.Localizations
    print(t.nrows, 'dx' in t.colnames, 'fitResults_bx' in t.colnames)`,
      [join(dir, 'run_corrected.hdf')],
    );
    expect(out.trim()).toBe('57894 True True');
  });

  it('an output path equal to the input is refused and the input is untouched', () => {
    const before = readFileSync(join(dir, 'cell_locs.hdf5'));
    const r = runCli(['apply', 'cell_locs.hdf5', '--drift', 'cell_locs.truth.npz', '-o', 'cell_locs.hdf5'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is the input file .*never writes over an input/);
    expect(readFileSync(join(dir, 'cell_locs.hdf5')).equals(before)).toBe(true);
  });
});
