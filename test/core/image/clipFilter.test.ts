import { describe, expect, it } from 'vitest';
import { clipAndFilterFrame, medianFilter2d, THIN_VOLUME_PLANES } from '../../../src/core/image/clipFilter.js';
import { prefilterStack } from '../../../src/core/image/prefilterStack.js';
import { tukeyWindow } from '../../../src/core/histogram/tukey.js';
import { expectClose } from '../../helpers/expectClose.js';
import { findPython, runPython } from '../../helpers/fixtures.js';
import { memoryStack } from './memoryStack.js';

const NO_FILTER = {
  medianFilterSize: 0,
  thresholdLower: -Infinity,
  clipToLower: 0,
  thresholdUpper: Infinity,
  clipToUpper: 0,
  tukeySize: 0,
  background: 'none' as const,
};

describe('clipAndFilterFrame', () => {
  it('clips upper first, then lower, subtracts clip_to_lower (exact, uint16 input)', () => {
    const frame = Uint16Array.from([100, 105, 110, 60000, 65535, 90]);
    const out = clipAndFilterFrame(frame, 6, 1, 1, { ...NO_FILTER, thresholdLower: 100, clipToLower: 100, thresholdUpper: 60000, clipToUpper: 50 });
    // 100 ≤ 100 → 100 → 0; 105 → 5; 110 → 10; 60000 ≥ upper → 50, then 50 ≤ 100 → 100 → 0; same for 65535; 90 → 0.
    expect(Array.from(out)).toEqual([0, 5, 10, 0, 0, 0]);
    const out2 = clipAndFilterFrame(frame, 6, 1, 1, { ...NO_FILTER, thresholdLower: 0, clipToLower: 0, thresholdUpper: 60000, clipToUpper: 200 });
    expect(Array.from(out2)).toEqual([100, 105, 110, 200, 200, 90]);
  });

  it('multiplies by the outer product of scipy-identical Tukey windows (along z only for thick volumes)', () => {
    const [w, h] = [9, 7];
    const d = THIN_VOLUME_PLANES;
    const ones = new Float32Array(w * h * d).fill(1);
    const out = clipAndFilterFrame(ones, w, h, d, { ...NO_FILTER, tukeySize: 0.5 });
    const [tx, ty, tz] = [tukeyWindow(w, 0.5), tukeyWindow(h, 0.5), tukeyWindow(d, 0.5)];
    const expected = new Float64Array(w * h * d);
    for (let z = 0; z < d; z++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) expected[(z * h + y) * w + x] = tz[z] * ty[y] * tx[x];
    expectClose(out, expected, { rtol: 1e-6, atol: 1e-7 });
    const flat = clipAndFilterFrame(ones.subarray(0, w * h), w, h, 1, { ...NO_FILTER, tukeySize: 0.5 });
    const xy = expected.subarray(2 * w * h, 3 * w * h).map((v) => v / tz[2]);
    expectClose(flat, xy, { rtol: 1e-6, atol: 1e-7 }, '2D frame has no z taper');
    // Thin volumes (z-stacks of a few planes) are not tapered along z: every plane as the 2D frame.
    const thin = clipAndFilterFrame(ones.subarray(0, 5 * w * h), w, h, 5, { ...NO_FILTER, tukeySize: 0.5 });
    for (let z = 0; z < 5; z++) expectClose(thin.subarray(z * w * h, (z + 1) * w * h), xy, { rtol: 1e-6, atol: 1e-7 }, `thin volume plane ${z}`);
  });

  it('rejects bad parameters, naming them', () => {
    const f = new Float32Array(4);
    expect(() => clipAndFilterFrame(f, 2, 2, 1, { ...NO_FILTER, tukeySize: 2 })).toThrow(/tukeySize/);
    expect(() => clipAndFilterFrame(f, 2, 2, 1, { ...NO_FILTER, medianFilterSize: 2.5 })).toThrow(/^`medianFilterSize` must be a whole number/);
    expect(() => clipAndFilterFrame(f, 3, 2, 1, NO_FILTER)).toThrow(/expected 3×2×1 = 6/);
  });

  const python = findPython('numpy', 'scipy');
  it.skipIf(!python)('median filter equals scipy.ndimage.median_filter(mode="nearest") for sizes 2–5, per z plane', () => {
    const [w, h, d] = [23, 17, 2];
    const frame = Uint16Array.from({ length: w * h * d }, (_, i) => (Math.imul(i + 7, 2654435761) >>> 0) % 1000);
    const ref = JSON.parse(
      runPython(
        python!,
        `
import sys, json, numpy as np
from scipy import ndimage
a = np.array(json.loads(sys.argv[1]), dtype=np.float64).reshape(${d}, ${h}, ${w})
print(json.dumps({s: np.stack([ndimage.median_filter(p, size=s, mode='nearest') for p in a]).ravel().tolist() for s in (2, 3, 4, 5)}))
`,
        [JSON.stringify(Array.from(frame))],
      ),
    ) as Record<string, number[]>;
    for (const size of [2, 3, 4, 5]) expectClose(medianFilter2d(frame, w, h, d, size), ref[size], { rtol: 0, atol: 0 }, `size ${size}`);
  });

  it('median 3 removes an isolated hot pixel and keeps edges (replicated)', () => {
    const f = new Float32Array(25).fill(10);
    f[12] = 65535;
    f[0] = 3; // corner: its 3×3 replicated neighbourhood holds four 3s and five 10s
    const out = medianFilter2d(f, 5, 5, 1, 3);
    expect(out[12]).toBe(10);
    expect(out[0]).toBe(10);
  });
});

describe('prefilterStack', () => {
  it('filters lazily frame by frame, outputs float32 and records the settings', async () => {
    const frames = [Uint16Array.from([1, 2, 3, 4]), Uint16Array.from([5, 6, 7, 8])];
    const src = memoryStack(frames, { width: 2, height: 2 }, { dtype: 'uint16', voxelSizeNm: [65, 65, 100], metadata: { a: 1 } });
    const params = { ...NO_FILTER, thresholdLower: 2, clipToLower: 2 };
    const st = prefilterStack(src, params);
    expect(src.reads).toEqual([]);
    expect(st.dtype).toBe('float32');
    expect(st.voxelSizeNm).toEqual([65, 65, 100]);
    expect(st.metadata.a).toBe(1);
    expect(st.metadata['recipe.clip_filter.threshold_lower']).toBe(2);
    expect(Array.from(await st.readFrame(1))).toEqual([3, 4, 5, 6]);
    expect(src.reads).toEqual([1]);
    expect(Array.from(await st.readFrame(0))).toEqual([0, 0, 1, 2]);
  });
});

describe('background auto', () => {
  it('removes a pedestal and a smooth illumination gradient, keeps the structure, leaves noise zero-mean', () => {
    const [w, h] = [128, 96];
    const frame = new Uint16Array(w * h);
    let s = 3;
    const noise = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return (s / 2 ** 32 - 0.5) * 10;
    };
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) frame[y * w + x] = Math.round(1000 + 0.5 * x + 0.2 * y + noise() + (x === 64 && y > 20 && y < 70 ? 300 : 0));
    const out = clipAndFilterFrame(frame, w, h, 1, { ...NO_FILTER, background: 'auto' });
    let sum = 0;
    let count = 0;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        if (Math.abs(x - 64) > 3) {
          sum += out[y * w + x];
          count++;
        }
    expect(Math.abs(sum / count)).toBeLessThan(0.5);
    expect(out[40 * w + 64]).toBeGreaterThan(290);
    const none = clipAndFilterFrame(frame, w, h, 1, { ...NO_FILTER, background: 'none' });
    expect(none[40 * w + 10]).toBeGreaterThan(990);
  });
});
