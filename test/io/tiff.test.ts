import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeTiff, imageJDescription, tiffFormat, writeTiffStack } from '../../src/io/tiff.js';
import { InputError } from '../../src/core/errors.js';
import type { ImageStack, NumericArray } from '../../src/core/types.js';
import { fixturesDir, findPython, runPython } from '../helpers/fixtures.js';
import { memoryStack } from '../core/image/memoryStack.js';

const dir = join(fixturesDir, 'tiff');
const fixture = (name: string) => join(dir, name);
const read = (name: string, voxelSizeNm?: [number, number, number]) => tiffFormat.read!(fixture(name), { voxelSizeNm });
/** value(t, z, y, x) used by make_tiff_fixtures.py. */
const pattern = (t: number, z: number, y: number, x: number) => 1000 * t + 100 * z + 10 * y + x;

async function expectPattern(stack: ImageStack, map: (v: number) => number = (v) => v): Promise<void> {
  for (let t = 0; t < stack.frames; t++) {
    const f = await stack.readFrame(t);
    const expected = new Float64Array(f.length);
    for (let z = 0; z < stack.depth; z++)
      for (let y = 0; y < stack.height; y++)
        for (let x = 0; x < stack.width; x++) expected[(z * stack.height + y) * stack.width + x] = map(pattern(t, z, y, x));
    expect(Array.from(f), `frame ${t}`).toEqual(Array.from(expected));
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'ccdrift-tiff-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('TIFF reader (fixtures written by tifffile)', () => {
  it('reads an ImageJ TZYX hyperstack: shape, dtype, calibration (µm → nm), page order', async () => {
    const st = await read('imagej_tzyx_uint16.tif');
    expect([st.width, st.height, st.depth, st.frames, st.dtype]).toEqual([4, 5, 2, 3, 'uint16']);
    expect(st.voxelSizeNm[0]).toBeCloseTo(65, 4);
    expect(st.voxelSizeNm[1]).toBeCloseTo(65, 4);
    expect(st.voxelSizeNm[2]).toBeCloseTo(200, 9);
    expect(await st.readFrame(0)).toBeInstanceOf(Uint16Array);
    await expectPattern(st);
  });

  it('reads an ImageJ float32 time series', async () => {
    const st = await read('imagej_tyx_float32.tif');
    expect([st.width, st.height, st.depth, st.frames, st.dtype]).toEqual([3, 6, 1, 4, 'float32']);
    expect(st.voxelSizeNm.slice(0, 2)).toEqual([100, 100]);
    await expectPattern(st, (v) => v * 0.5);
  });

  it('reads big-endian pages, and needs the voxel size option when the file has no calibration', async () => {
    await expect(read('plain_bigendian_float32.tif')).rejects.toThrow(/states no pixel size.*`voxelSizeNm`/);
    const st = await read('plain_bigendian_float32.tif', [50, 50, 100]);
    expect([st.width, st.height, st.frames, st.dtype]).toEqual([5, 3, 4, 'float32']);
    expect(st.voxelSizeNm).toEqual([50, 50, 100]);
    await expectPattern(st, (v) => v * 0.5);
  });

  it('reads BigTIFF', async () => {
    const st = await read('bigtiff_uint8.tif', [100, 100, 100]);
    expect([st.width, st.height, st.frames, st.dtype]).toEqual([7, 4, 3, 'uint8']);
    await expectPattern(st, (v) => v % 256);
  });

  it('reads OME-TIFF shape and physical size', async () => {
    const st = await read('ome_tyx_uint16.ome.tif');
    expect([st.width, st.height, st.depth, st.frames]).toEqual([5, 4, 1, 3]);
    expect(st.voxelSizeNm.slice(0, 2)).toEqual([100, 100]);
    await expectPattern(st);
  });

  it('decodes compressed pages (deflate + predictor) through geotiff', async () => {
    const st = await read('deflate_int16.tif', [100, 100, 100]);
    expect([st.width, st.height, st.frames, st.dtype]).toEqual([6, 8, 3, 'int16']);
    await expectPattern(st, (v) => v - 500);
  });

  it('refuses RGB, int8, missing files, non-TIFFs and a voxel size that contradicts the file', async () => {
    await expect(read('rgb_uint8.tif', [1, 1, 1])).rejects.toThrow(/3 samples per pixel/);
    await expect(read('int8.tif', [1, 1, 1])).rejects.toThrow(/8-bit signed pixels are not supported/);
    await expect(read('nope.tif')).rejects.toThrow(InputError);
    const junk = join(tmp, 'junk.tif');
    writeFileSync(junk, 'not a tiff at all');
    await expect(tiffFormat.read!(junk, {})).rejects.toThrow(/not a TIFF/);
    await expect(read('imagej_tzyx_uint16.tif', [100, 100, 200])).rejects.toThrow(/gives a voxel size of 65.*but 100, 100, 200 nm was given/);
    const ok = await read('imagej_tzyx_uint16.tif', [65, 65, 200]);
    expect(ok.frames).toBe(3);
  });

  it('describes a file for `ccdrift info`', async () => {
    const text = await describeTiff(fixture('imagej_tzyx_uint16.tif'));
    expect(text).toMatch(/TIFF, little-endian, 6 IFDs/);
    expect(text).toMatch(/4 × 5, 16-bit unsigned/);
    expect(text).toMatch(/3 time points × 2 z planes/);
    expect(text).toMatch(/voxel size: 65 × 65 × 200 nm/);
    expect(await describeTiff(fixture('bigtiff_uint8.tif'))).toMatch(/BigTIFF[\s\S]*voxel size: \? × \? × \? nm/);
  });
});

function patternStack(frames: number, width: number, height: number, depth: number, dtype: 'uint16' | 'float32', voxelSizeNm: [number, number, number]) {
  const data: NumericArray[] = [];
  for (let t = 0; t < frames; t++) {
    const f = dtype === 'uint16' ? new Uint16Array(width * height * depth) : new Float32Array(width * height * depth);
    for (let z = 0; z < depth; z++)
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) f[(z * height + y) * width + x] = pattern(t, z, y, x) * (dtype === 'float32' ? 0.5 : 1);
    data.push(f);
  }
  return memoryStack(data, { width, height, depth }, { dtype, voxelSizeNm, metadata: { 'Camera.ADOffset': 100, note: 'ü ✓', nested: { a: [1, 2] } } });
}

describe('TIFF writer', () => {
  const cases = [
    { name: 'uint16 4D classic', stack: () => patternStack(3, 7, 5, 4, 'uint16', [65, 65, 250]), big: false },
    { name: 'float32 3D BigTIFF', stack: () => patternStack(5, 9, 4, 1, 'float32', [108, 108, 100]), big: true },
  ];
  for (const { name, stack, big } of cases) {
    it(`round-trips ${name}: values, shape, voxel size and metadata`, async () => {
      const src = stack();
      const path = join(tmp, `${name.replace(/\W+/g, '_')}.tif`);
      await writeTiffStack(path, src, { bigTiff: big });
      expect(src.reads).toEqual(Array.from({ length: src.frames }, (_, i) => i)); // one pass, in order
      const back = await tiffFormat.read!(path, {});
      expect([back.width, back.height, back.depth, back.frames, back.dtype]).toEqual([src.width, src.height, src.depth, src.frames, src.dtype]);
      expect(back.voxelSizeNm).toEqual(src.voxelSizeNm);
      expect(back.metadata).toEqual(src.metadata);
      await expectPattern(back, (v) => v * (src.dtype === 'float32' ? 0.5 : 1));
      expect(await describeTiff(path)).toMatch(big ? /^.*BigTIFF/ : /^.*: TIFF/);
    });
  }

  it('writes the ImageJ description Fiji needs', () => {
    expect(imageJDescription({ depth: 4, frames: 3, voxelSizeNm: [65, 65, 250] })).toBe(
      'ImageJ=1.11a\nimages=12\nslices=4\nframes=3\nhyperstack=true\nunit=micron\nspacing=0.25\nloop=false\n',
    );
  });

  const python = findPython('numpy', 'tifffile');
  it.skipIf(!python)('files open in tifffile as ImageJ hyperstacks with the right axes, calibration and values', async () => {
    for (const { name, stack, big } of cases) {
      const src = stack();
      const path = join(tmp, `tifffile_${name.replace(/\W+/g, '_')}.tif`);
      await writeTiffStack(path, src, { bigTiff: big });
      const out = JSON.parse(
        runPython(
          python!,
          `
import sys, json, numpy as np, tifffile
with tifffile.TiffFile(sys.argv[1]) as tf:
    s = tf.series[0]
    a = s.asarray()
    p = tf.pages[0]
    xr = p.tags['XResolution'].value
    print(json.dumps({'imagej': tf.is_imagej, 'bigtiff': tf.is_bigtiff, 'axes': s.axes, 'shape': list(a.shape), 'dtype': str(a.dtype),
        'ij': {k: v for k, v in tf.imagej_metadata.items() if k in ('spacing', 'unit', 'frames', 'slices', 'images')},
        'pixel_um': xr[1] / xr[0], 'sum': float(a.astype(np.float64).sum()), 'last': float(a.reshape(-1)[-1])}))
`,
          [path],
        ),
      );
      const { frames, depth, width, height } = src;
      let sum = 0;
      let last = 0;
      for (let t = 0; t < frames; t++) {
        const f = await src.readFrame(t);
        for (const v of f) sum += v;
        last = f[f.length - 1];
      }
      expect(out.imagej, name).toBe(true);
      expect(out.bigtiff, name).toBe(big);
      expect(out.axes).toBe(depth > 1 ? 'TZYX' : 'TYX');
      expect(out.shape).toEqual(depth > 1 ? [frames, depth, height, width] : [frames, height, width]);
      expect(out.dtype).toBe(src.dtype);
      expect(out.ij.unit).toBe('micron');
      expect(out.ij.frames).toBe(frames);
      if (depth > 1) expect(out.ij.spacing).toBeCloseTo(src.voxelSizeNm[2] / 1000, 12);
      expect(out.pixel_um).toBeCloseTo(src.voxelSizeNm[0] / 1000, 9);
      expect(out.sum).toBeCloseTo(sum, 6);
      expect(out.last).toBe(last);
    }
  });
});
