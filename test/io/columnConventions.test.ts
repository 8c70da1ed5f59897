import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyDriftToTable } from '../../src/core/drift/applyDriftToTable.js';
import type { DriftInterpolator, DriftTrace, LocTable } from '../../src/core/types.js';
import '../../src/io/index.js';
import { readTable, writeTable } from '../../src/io/formats.js';
import { readCsvTable } from '../../src/io/csv.js';
import { expectClose } from '../helpers/expectClose.js';
import { repoRoot } from '../helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'ccdrift-conventions-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fixtures = join(repoRoot, 'test', 'fixtures');
/** Values pass through float32 pixels in Picasso files; float64 elsewhere. */
const FLOAT32_RTOL = 1e-6;

/** A constant drift (correction to add), as an interpolator. */
function constantDrift(dx: number, dy: number, dz: number): DriftInterpolator {
  return {
    evaluate(t: ArrayLike<number>): DriftTrace {
      const n = t.length;
      return { t: Float64Array.from(t), x: new Float64Array(n).fill(dx), y: new Float64Array(n).fill(dy), z: new Float64Array(n).fill(dz) };
    },
    sources: [],
    range: [0, 1e9],
    extrapolation: 'constant',
  };
}

const col = (t: LocTable, name: string) => Array.from(t.columns.get(name) ?? []);

describe('converting maps the known columns to the target names and units, and keeps the rest', () => {
  it('ThunderSTORM CSV → PYME .hdf: sig and error_x/error_y (what PYME recipes filter on), photons', async () => {
    const ts = await readTable(join(fixtures, 'csv', 'thunderstorm.csv'));
    const out = join(tmp, 'from_ts.hdf');
    await writeTable(out, ts);
    const back = await readTable(out);
    expect(back.columns.has('sig')).toBe(true);
    expect(back.columns.has('sigma [nm]')).toBe(false);
    expect(col(back, 'sig')).toEqual(col(ts, 'sigma [nm]'));
    const unc = col(ts, 'uncertainty [nm]').length ? 'uncertainty [nm]' : 'uncertainty_xy [nm]';
    expect(col(back, 'error_x')).toEqual(col(ts, unc));
    expect(col(back, 'error_y')).toEqual(col(ts, unc));
    expect(col(back, 'nPhotons')).toEqual(col(ts, 'intensity [photon]'));
    // PYME metadata gets no ccdrift-internal CSV keys
    expect(Object.keys(back.metadata).some((k) => k.startsWith('ccdrift.csv.'))).toBe(false);
  });

  it('Picasso → CSV: lpx, sx in pixels become error_x, sigmax in nm; unknown columns kept', async () => {
    const pic = await readTable(join(fixtures, 'hdf5', 'picasso_locs.hdf5'));
    const px = pic.metadata.Pixelsize as number;
    const out = join(tmp, 'from_picasso.csv');
    await writeTable(out, pic);
    const header = readFileSync(out, 'utf8').split('\n')[0].split(',');
    expect(header).not.toContain('lpx');
    expect(header).toContain('error_x');
    const back = await readCsvTable(out);
    expectClose(
      back.columns.get('error_x')!,
      col(pic, 'lpx').map((v) => v * px),
      { rtol: 1e-12 },
      'error_x',
    );
    if (pic.columns.has('sx'))
      expectClose(
        back.columns.get('sigmax') ?? back.columns.get('sig')!,
        col(pic, 'sx').map((v) => v * px),
        { rtol: 1e-12 },
        'sigma',
      );
    for (const name of pic.columns.keys()) {
      if (!['lpx', 'lpy', 'sx', 'sy', 'photons', 'bg', 'x', 'y', 't'].includes(name)) expect(back.columns.has(name), name).toBe(true);
    }
  });

  it('PYME → Picasso: error_x/error_y in nm become lpx/lpy in pixels (float32)', async () => {
    const pyme = await readTable(join(fixtures, 'hdf5', 'pyme_locs.hdf'));
    const out = join(tmp, 'from_pyme.hdf5');
    await writeTable(out, pyme, { pixelSizeNm: 100 });
    const back = await readTable(out);
    expectClose(
      back.columns.get('lpx')!,
      col(pyme, 'error_x').map((v) => v / 100),
      { rtol: FLOAT32_RTOL },
      'lpx',
    );
    expect(back.columns.get('lpx')).toBeInstanceOf(Float32Array);
  });

  it('the same format keeps names and units', async () => {
    const ts = await readTable(join(fixtures, 'csv', 'thunderstorm.csv'));
    const out = join(tmp, 'ts_again.csv');
    await writeTable(out, ts);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe(readFileSync(join(fixtures, 'csv', 'thunderstorm.csv'), 'utf8').split(/\r?\n/)[0]);
  });
});

describe('correcting a corrected file composes in every format (dx, dy, dz in the table’s own units)', () => {
  const cases: [string, string, Record<string, number>][] = [
    ['ThunderSTORM CSV', 'thunderstorm.csv', {}],
    ['plain TSV', 'plain.tsv', {}],
    ['PYME .hdf', 'pyme_locs.hdf', {}],
    ['Picasso .hdf5', 'picasso_locs.hdf5', {}],
  ];
  for (const [label, file] of cases) {
    it(label, async () => {
      const dir = mkdtempSync(join(tmp, 'compose-'));
      const ext = file.slice(file.lastIndexOf('.'));
      const src = join(dir, `in${ext}`);
      copyFileSync(join(fixtures, file.endsWith('.csv') || file.endsWith('.tsv') ? 'csv' : 'hdf5', file), src);
      if (ext === '.hdf5') copyFileSync(join(fixtures, 'hdf5', file.replace('.hdf5', '.yaml')), join(dir, 'in.yaml'));
      const original = await readTable(src);
      const once = join(dir, `once${ext}`);
      await writeTable(once, applyDriftToTable(original, constantDrift(10, -4, 0)));
      const first = await readTable(once);
      const twice = join(dir, `twice${ext}`);
      await writeTable(twice, applyDriftToTable(first, constantDrift(5, 1, 0)));
      const second = await readTable(twice);
      const rtol = ext === '.hdf5' ? FLOAT32_RTOL : 1e-12;
      expectClose(second.columns.get('dx')!, new Float64Array(original.length).fill(15), { rtol, atol: 1e-9 }, 'dx');
      expectClose(second.columns.get('dy')!, new Float64Array(original.length).fill(-3), { rtol, atol: 1e-9 }, 'dy');
      expectClose(
        second.columns.get('x')!,
        col(original, 'x').map((v) => v + 15),
        { rtol, atol: 1e-6 },
        'x',
      );
      // one dx column, under one name
      expect([...second.columns.keys()].filter((k) => k.startsWith('dx'))).toEqual(['dx']);
      if (ext === '.csv' || ext === '.tsv') {
        const header = readFileSync(twice, 'utf8').split('\n')[0];
        expect(header.split(/[,\t]/).filter((h) => h.replace(/"/g, '').startsWith('dx'))).toHaveLength(1);
      }
    });
  }
  it('Picasso files store dx, dy in pixels like x, y, and dz in nm', async () => {
    const dir = mkdtempSync(join(tmp, 'picasso-units-'));
    copyFileSync(join(fixtures, 'hdf5', 'picasso_locs.hdf5'), join(dir, 'a.hdf5'));
    copyFileSync(join(fixtures, 'hdf5', 'picasso_locs.yaml'), join(dir, 'a.yaml'));
    const t = await readTable(join(dir, 'a.hdf5'));
    const px = t.metadata.Pixelsize as number;
    await writeTable(join(dir, 'b.hdf5'), applyDriftToTable(t, constantDrift(2 * px, px, 7)));
    // read the raw pixel values back without conversion: with a pixel size of 1 nm
    writeFileSync(join(dir, 'b.yaml'), 'Pixelsize: 1\n');
    const raw = await readTable(join(dir, 'b.hdf5'));
    expectClose(raw.columns.get('dx')!, new Float64Array(t.length).fill(2), { rtol: 1e-12 }, 'dx px');
    expectClose(raw.columns.get('dy')!, new Float64Array(t.length).fill(1), { rtol: 1e-12 }, 'dy px');
    expectClose(raw.columns.get('dz')!, new Float64Array(t.length).fill(7), { rtol: 1e-12 }, 'dz nm');
  });
});

describe('the pixel size a table states, and --pixel-size against it', () => {
  it("reads Picasso's Pixelsize, else PYME's voxelsize.x (µm or nm)", async () => {
    const { metadataPixelSizeNm } = await import('../../src/io/columnConventions.js');
    expect(metadataPixelSizeNm({ Pixelsize: 130, 'voxelsize.x': 0.1 })).toBe(130);
    expect(metadataPixelSizeNm({ 'voxelsize.x': 0.108 })).toBeCloseTo(108, 12);
    expect(metadataPixelSizeNm({ 'voxelsize.x': 95, 'voxelsize.units': 'nm' })).toBe(95);
    expect(metadataPixelSizeNm({})).toBeUndefined();
  });
  it('a disagreeing --pixel-size is a usage error naming both, unless --force', async () => {
    const { checkPixelSizeAgreement } = await import('../../src/cli/output.js');
    const md = { 'voxelsize.x': 0.1, 'voxelsize.units': 'um' };
    expect(() => checkPixelSizeAgreement('cell.hdf', md, 130, false)).toThrow(
      /cell\.hdf: --pixel-size 130 nm disagrees with the file's own pixel size, 100 nm/,
    );
    expect(() => checkPixelSizeAgreement('cell.hdf', md, 130, true)).not.toThrow();
    expect(() => checkPixelSizeAgreement('cell.hdf', md, 100, false)).not.toThrow();
    expect(() => checkPixelSizeAgreement('cell.csv', {}, 130, false)).not.toThrow();
  });
});
