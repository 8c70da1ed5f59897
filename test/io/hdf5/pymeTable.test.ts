import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/core/errors.js';
import { readPymeTable } from '../../../src/io/hdf5/pymeTable.js';
import { expectClose } from '../../helpers/expectClose.js';
import { fixturesDir, haveSharedFixtures, sharedFixture, sharedSkipReason } from '../../helpers/fixtures.js';

const dir = join(fixturesDir, 'hdf5');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
/** Values pass through float32 → float32 unchanged: compare exactly. */
const EXACT = { rtol: 0, atol: 0 };

describe('readPymeTable (.hdf written by PyTables)', () => {
  for (const name of ['pyme_locs.hdf', 'pyme_locs_blosc_lz4.hdf', 'pyme_locs_blosc_zstd.hdf', 'pyme_locs_bigendian.hdf']) {
    it(`reads every column with its dtype from ${name}`, async () => {
      const table = await readPymeTable(join(dir, name));
      expect(table.length).toBe(200);
      expect([...table.columns.keys()]).toEqual(Object.keys(expected.pyme_locs));
      for (const [col, values] of Object.entries(expected.pyme_locs as Record<string, number[]>)) {
        expectClose(table.columns.get(col)!, values, EXACT, col);
      }
      expect(table.columns.get('x')).toBeInstanceOf(Float32Array);
      expect(table.columns.get('t')).toBeInstanceOf(Int32Array);
      expect(table.columns.get('probe')).toBeInstanceOf(Uint8Array);
      expect(table.columns.get('clumpIndex')).toBeInstanceOf(Float64Array); // int64, exact below 2^53
      expect(table.columns.get('nPhotons')).toBeInstanceOf(Float64Array);
    });
  }

  it('reads /MetaData as flat dotted keys, unpickling tuples, lists and Python 2 longs', async () => {
    const { metadata } = await readPymeTable(join(dir, 'pyme_locs.hdf'));
    expect(metadata['voxelsize.x']).toBe(0.1);
    expect(metadata['voxelsize.units']).toBe('um');
    expect(metadata['Camera.ROI']).toEqual([770, 1076, 1090, 1374]);
    expect(metadata['Camera.ROIWidth']).toBe(320);
    expect(metadata['Camera.Labelling']).toEqual([['alpha-tubulin', 'ATTO655']]);
    expect(metadata['Camera.Name']).toBe('Andor sCMOS');
    expect(metadata['Camera.EMGain']).toBe(1);
    expect(metadata.AcquiringUser).toBe('tester');
    expect(metadata.EstimatedLaserOnFrameNo).toBe(21);
    expect(Object.keys(metadata).some((k) => /(^|\.)(CLASS|TITLE|VERSION)$/.test(k))).toBe(false);
  });

  it('chooses a named table and lists the tables when the name is wrong', async () => {
    await expect(readPymeTable(join(dir, 'pyme_locs.hdf'), { table: 'Nope' })).rejects.toThrow(/no table 'Nope'; tables in the file: Events, Localizations/);
    await expect(readPymeTable(join(dir, 'pyme_locs.hdf'), { table: 'Events' })).rejects.toThrow(/columns present: Time/);
  });
});

describe('readPymeTable (.h5r analysis results)', () => {
  it('maps nested /FitResults fields to SPEC §2 columns and flattens the rest', async () => {
    const table = await readPymeTable(join(dir, 'synthetic.h5r'));
    expect(table.length).toBe(200);
    for (const [col, values] of Object.entries(expected.h5r as Record<string, number[]>)) {
      expect(table.columns.has(col), col).toBe(true);
      expectClose(table.columns.get(col)!, values, EXACT, col);
    }
    expect(table.columns.has('z')).toBe(false); // no fitResults.z0 in a 2D fit
    expect(table.columns.has('slicesUsed_y_step')).toBe(true);
    expect(table.metadata['Camera.ROI']).toEqual([770, 1076, 1090, 1374]);
  });

  describe.skipIf(!haveSharedFixtures)(`real PYME file ${haveSharedFixtures ? '' : sharedSkipReason}`, () => {
    it('reads 1_2_series_D.h5r: 57 894 localizations, nm coordinates, metadata', async () => {
      const table = await readPymeTable(sharedFixture('pyme', '1_2_series_D.h5r'));
      expect(table.length).toBe(57894);
      for (const c of ['t', 'x', 'y', 'A', 'sig', 'error_x', 'error_y', 'bg', 'fitResults_bx', 'slicesUsed_x_start', 'nchi2']) {
        expect(table.columns.get(c)?.length, c).toBe(57894);
      }
      expect(table.metadata['voxelsize.x']).toBe(0.072);
      expect(table.metadata['Camera.ROI']).toEqual([770, 1076, 1090, 1374]);
      expect(table.metadata['Sample.Labelling']).toEqual([['alpha-tubulin', 'ATTO655']]);
      expect(table.metadata['Lasers.l647.On']).toBe(true); // numpy.bool_, a bitfield in the file
      expect(table.metadata['Lasers.l405.On']).toBe(false);
      const t = table.columns.get('t')!;
      for (let i = 1; i < t.length; i++) if (t[i] < 0) throw new Error(`negative frame at ${i}`);
    });
  });
});

describe('readPymeTable: bad input', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ccdrift-hdf5-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('names the columns present when x/y/t are missing', async () => {
    await expect(readPymeTable(join(dir, 'no_xyt.hdf'))).rejects.toThrow(/no columns x, y, t .*columns present: a, b, frame_no/);
  });

  it('reports a truncated file as an InputError', async () => {
    const cut = join(tmp, 'cut.hdf');
    copyFileSync(join(dir, 'pyme_locs.hdf'), cut);
    truncateSync(cut, 3000);
    const err = await readPymeTable(cut).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/cut\.hdf: cannot open as HDF5 — .*truncated/);
  });

  it('reports corrupt data inside a readable file as an InputError', async () => {
    const bytes = readFileSync(join(dir, 'pyme_locs.hdf'));
    bytes.fill(0x55, Math.floor(bytes.length * 0.4));
    const bad = join(tmp, 'corrupt.hdf');
    writeFileSync(bad, bytes);
    const err = await readPymeTable(bad).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/corrupt\.hdf: HDF5 error — .*the file may be corrupt or incomplete/);
  });

  it('reports a file that is not HDF5', async () => {
    const junk = join(tmp, 'junk.hdf');
    writeFileSync(junk, 'x,y,t\n1,2,3\n');
    await expect(readPymeTable(junk)).rejects.toThrow(/junk\.hdf: cannot open as HDF5 — .*signature/);
  });

  it('refuses a PYME image stack with the command to use', async () => {
    const img = join(tmp, 'img.hdf');
    copyFileSync(join(dir, 'pyme_image.h5'), img);
    const err = await readPymeTable(img).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/this is a PYME image stack .*use `ccdrift images`/);
  });

  it('a missing file is ENOENT (the registry turns it into "no such file")', async () => {
    await expect(readPymeTable(join(tmp, 'absent.hdf'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
