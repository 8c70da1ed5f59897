import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../../src/core/errors.js';
import type { ImageStack } from '../../../src/core/types.js';
import { readImageStack, registerImageFormat, writeImageStack } from '../../../src/io/formats.js';
import { pymeImageFormat, readPymeImage } from '../../../src/io/hdf5/pymeImage.js';
import { expectClose } from '../../helpers/expectClose.js';
import { findPython, fixturesDir, haveSharedFixtures, runPython, sharedFixture, sharedSkipReason } from '../../helpers/fixtures.js';

registerImageFormat(pymeImageFormat);
const dir = join(fixturesDir, 'hdf5');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
const python = findPython('tables', 'numpy');
const noPython = 'skipped: no Python with PyTables (apt-get install python3-tables)';
const tmp = mkdtempSync(join(tmpdir(), 'ccdrift-h5img-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
/** µm × 1000 in float64. */
const NM_TOL = { rtol: 1e-12, atol: 0 };

describe('readPymeImage', () => {
  it('reads (T, X, Y) frames transposed to x-fastest, with the voxel size in nm', async () => {
    const stack = await readPymeImage(join(dir, 'pyme_image.h5'));
    const [T, X, Y] = expected.image.shape_TXY as number[];
    expect([stack.frames, stack.width, stack.height, stack.depth]).toEqual([T, X, Y, 1]);
    expect(stack.dtype).toBe('float32');
    expectClose(stack.voxelSizeNm, expected.image.voxel_nm, NM_TOL, 'voxel size');
    for (const t of [0, T - 1]) {
      const frame = await stack.readFrame(t);
      expect(frame).toBeInstanceOf(Float32Array);
      for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) expect(frame[y * X + x]).toBe(t * 1000 + x * 10 + y);
    }
    await expect(stack.readFrame(T)).rejects.toThrow(RangeError);
    expect(stack.metadata.ChannelNames).toEqual(['Image']);
  });

  describe.skipIf(!haveSharedFixtures)(`the original's example image ${haveSharedFixtures ? '' : sharedSkipReason}`, () => {
    it('wormlike_simulated_images_with_drift.h5: 10 × 448 × 448 float32, 20 nm voxels', async () => {
      const stack = await readPymeImage(sharedFixture('seed-example', 'wormlike_simulated_images_with_drift.h5'));
      expect([stack.frames, stack.width, stack.height, stack.dtype]).toEqual([10, 448, 448, 'float32']);
      expectClose(stack.voxelSizeNm.slice(0, 2), [20, 20], NM_TOL, 'voxel size');
      const frame = await stack.readFrame(9);
      let sum = 0;
      for (const v of frame) sum += v;
      expect(sum).toBeGreaterThan(0);
    });
  });

  it('asks for the voxel size (voxelSizeNm) when the file has none, and converts big-endian data', async () => {
    const file = join(dir, 'image_no_voxelsize.h5');
    await expect(readPymeImage(file)).rejects.toThrow(/no voxel size .*`voxelSizeNm`/);
    const stack = await readPymeImage(file, { voxelSizeNm: [100, 100, 1] });
    expect([stack.frames, stack.width, stack.height, stack.dtype]).toEqual([2, 3, 4, 'uint16']);
    // numpy arange(24).reshape(2, 3, 4)[t, x, y] = 12 t + 4 x + y
    const frame = await stack.readFrame(1);
    expect(Array.from(frame)).toEqual([0, 1, 2, 3].flatMap((y) => [0, 1, 2].map((x) => 12 + 4 * x + y)));
  });

  it('refuses a localization table with the command to use', async () => {
    const err = await readPymeImage(join(dir, 'pyme_locs.hdf')).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/this is a localization table \(.*Localizations.*\).*use `ccdrift locs`/);
  });
});

describe('writePymeImage', () => {
  it('round-trips frames, dtype and voxel size through ccdrift', async () => {
    const stack = await readImageStack(join(dir, 'pyme_image.h5'));
    const out = join(tmp, 'copy.h5');
    await writeImageStack(out, stack, { inputs: [join(dir, 'pyme_image.h5')] });
    const back = await readImageStack(out);
    expect([back.frames, back.width, back.height, back.dtype]).toEqual([stack.frames, stack.width, stack.height, stack.dtype]);
    expectClose(back.voxelSizeNm, stack.voxelSizeNm, NM_TOL, 'voxel size');
    for (let t = 0; t < stack.frames; t++) expectClose(await back.readFrame(t), await stack.readFrame(t), { rtol: 0, atol: 0 }, `frame ${t}`);
    expect(back.metadata.ChannelNames).toEqual(['Image']);
  });

  it('refuses volumes (PYME .h5 holds 2D frames)', async () => {
    const stack: ImageStack = {
      width: 2,
      height: 2,
      depth: 3,
      frames: 1,
      dtype: 'uint16',
      voxelSizeNm: [100, 100, 200],
      metadata: {},
      readFrame: async () => new Uint16Array(12),
    };
    await expect(writeImageStack(join(tmp, 'vol.h5'), stack)).rejects.toThrow(UsageError);
  });

  describe.skipIf(!python)(`read back by PyTables ${python ? '' : noPython}`, () => {
    it('PyTables sees an EArray (T, X, Y) equal to the original, str voxel units, and can append a frame', async () => {
      const frames = [new Uint16Array([1, 2, 3, 4, 5, 6]), new Uint16Array([7, 8, 9, 10, 11, 65535])];
      // 3 wide (x), 2 high (y): frame[y * 3 + x]
      const stack: ImageStack = {
        width: 3,
        height: 2,
        depth: 1,
        frames: 2,
        dtype: 'uint16',
        voxelSizeNm: [65, 65, 150],
        metadata: { 'Camera.Name': 'sim' },
        readFrame: async (i) => frames[i],
      };
      const out = join(tmp, 'for_pytables.h5');
      await writeImageStack(out, stack);
      const report = runPython(
        python!,
        `
import sys, json, tables, numpy as np
with tables.open_file(sys.argv[1], 'a') as f:
    d = f.root.ImageData
    res = {'kind': type(d).__name__, 'shape': [int(s) for s in d.shape], 'dtype': str(d.dtype),
           'data': d[:].tolist(), 'units': f.root.MetaData.voxelsize._v_attrs.units,
           'vx': float(f.root.MetaData.voxelsize._v_attrs.x), 'cam': f.root.MetaData.Camera._v_attrs.Name}
    d.append(np.zeros((1, 3, 2), 'u2'))
    res['after'] = int(d.shape[0])
print(json.dumps(res))
`,
        [out],
      );
      expect(JSON.parse(report)).toEqual({
        kind: 'EArray',
        shape: [2, 3, 2],
        dtype: 'uint16',
        data: [
          [
            [1, 4],
            [2, 5],
            [3, 6],
          ],
          [
            [7, 10],
            [8, 11],
            [9, 65535],
          ],
        ],
        units: 'um',
        vx: 0.065,
        cam: 'sim',
        after: 3,
      });
    });
  });
});
