import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { describeHdf5 } from '../../../src/io/hdf5/describeHdf5.js';
import { fixturesDir, haveSharedFixtures, sharedFixture, sharedSkipReason } from '../../helpers/fixtures.js';

const dir = join(fixturesDir, 'hdf5');

describe('describeHdf5', () => {
  it('summarises a PYME table: rows, dtypes, frame range, extent, metadata', async () => {
    const text = await describeHdf5(join(dir, 'pyme_locs.hdf'));
    expect(text).toMatch(/PYME localizations \(HDF5 table \/Localizations\)/);
    expect(text).toMatch(/rows: 200/);
    expect(text).toMatch(/columns \(11\): x float32, y float32, z float32, t int32, .*clumpIndex int64, probe uint8, nPhotons float64/);
    expect(text).toMatch(/frames: \d+ – \d+/);
    expect(text).toMatch(/x: [\d.,]+ – [\d.,]+ nm \(extent [\d.,]+ nm\)/);
    expect(text).toMatch(/other tables: \/Events \(3 rows\)/);
    expect(text).toMatch(/Camera\.ROI = \[770,1076,1090,1374\]/);
  });

  it('summarises .h5r results, a Picasso file (with and without pixel size) and an image stack', async () => {
    expect(await describeHdf5(join(dir, 'synthetic.h5r'))).toMatch(/PYME analysis results[\s\S]*slicesUsed_x_start int32/);
    const picasso = await describeHdf5(join(dir, 'picasso_locs.hdf5'));
    expect(picasso).toMatch(/Picasso localizations[\s\S]*pixel size: 130 nm[\s\S]*t uint32, x float32/);
    expect(await describeHdf5(join(dir, 'picasso_no_pixelsize.hdf5'))).toMatch(/pixel size: unknown[\s\S]*x: .* px/);
    const image = await describeHdf5(join(dir, 'pyme_image.h5'));
    expect(image).toMatch(/PYME image stack[\s\S]*shape \(T, X, Y\): \(4, 6, 5\)[\s\S]*dtype: float32[\s\S]*voxel size: 70 × 80 × 200 nm/);
  });

  it('still lists the columns of a table that lacks x/y/t', async () => {
    expect(await describeHdf5(join(dir, 'no_xyt.hdf'))).toMatch(/columns \(3\): a float32, b float32, frame_no int32/);
  });

  it('reports a corrupt file', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ccdrift-desc-'));
    onTestFinished(() => rmSync(tmp, { recursive: true, force: true }));
    copyFileSync(join(dir, 'picasso_locs.yaml'), join(tmp, 'bad.h5'));
    await expect(describeHdf5(join(tmp, 'bad.h5'))).rejects.toThrow(/cannot open as HDF5/);
  });

  describe.skipIf(!haveSharedFixtures)(`real file ${haveSharedFixtures ? '' : sharedSkipReason}`, () => {
    it('summarises 1_2_series_D.h5r', async () => {
      const text = await describeHdf5(sharedFixture('pyme', '1_2_series_D.h5r'));
      expect(text).toMatch(/rows: 57,894/);
      expect(text).toMatch(/Sample\.Labelling = \[\["alpha-tubulin","ATTO655"\]\]/);
    });
  });
});
