import { describe, expect, it } from 'vitest';
import { downsampleGeometry, downsampleStack } from '../../../src/core/image/downsample.js';
import { frameTimes } from '../../../src/core/image/frameTimes.js';
import { UsageError } from '../../../src/core/errors.js';
import { memoryStack } from './memoryStack.js';

const ALL = { xStart: 0, xEnd: -1, yStart: 0, yEnd: -1 };

describe('downsampleStack', () => {
  // 5 × 3 frames with value = 100·t + 10·y + x.
  const frames = Array.from({ length: 5 }, (_, t) => Uint16Array.from({ length: 15 }, (_, i) => 100 * t + 10 * Math.floor(i / 5) + (i % 5)));

  it('averages 2 × 2 pixel bins, dropping pixels that do not fill a bin (exact)', async () => {
    const st = downsampleStack(memoryStack(frames, { width: 5, height: 3 }, { dtype: 'uint16' }), { ...ALL, binning: [2, 2, 1] });
    expect([st.width, st.height, st.frames, st.dtype]).toEqual([2, 1, 5, 'float32']);
    // Bin (0,0): x 0–1, y 0–1 → (0+1+10+11)/4 = 5.5; bin (1,0): (2+3+12+13)/4 = 7.5.
    expect(Array.from(await st.readFrame(2))).toEqual([205.5, 207.5]);
    expect(st.voxelSizeNm).toEqual([200, 200, 100]);
    expect(st.metadata['recipe.binning']).toEqual([2, 2, 1]);
  });

  it('averages time bins, the last one partial, and sample times follow the binning', async () => {
    const src = memoryStack(frames, { width: 5, height: 3 });
    const st = downsampleStack(src, { ...ALL, binning: [1, 1, 2] });
    expect(st.frames).toBe(3);
    expect((await st.readFrame(0))[0]).toBe(50); // frames 0, 1
    expect((await st.readFrame(2))[7]).toBe(412); // frame 4 alone: 400 + 10 + 2
    expect(Array.from(frameTimes(st.metadata, st.frames))).toEqual([1, 3, 5]);
    expect(Array.from(frameTimes(src.metadata, 3))).toEqual([0, 1, 2]);
  });

  it('crops with Python-style ends, −1 meaning through the last pixel, and multiplies earlier binning', async () => {
    const src = memoryStack(frames, { width: 5, height: 3 }, { metadata: { 'recipe.binning': [2, 2, 3], 'voxelsize.x': 0.1 } });
    const st = downsampleStack(src, { xStart: 1, xEnd: 4, yStart: 1, yEnd: -2, binning: [1, 1, 1] });
    expect([st.width, st.height]).toEqual([3, 1]); // x 1..3, y 1 only
    expect(Array.from(await st.readFrame(0))).toEqual([11, 12, 13]);
    expect(st.metadata['recipe.binning']).toEqual([2, 2, 3]);
    const st2 = downsampleStack(src, { ...ALL, binning: [2, 1, 2] });
    expect(st2.metadata['recipe.binning']).toEqual([4, 2, 6]);
    expect(st2.metadata['voxelsize.x']).toBeCloseTo(0.2, 12);
    expect(Array.from(frameTimes(st2.metadata, 2))).toEqual([3, 9]);
  });

  it('refuses crops and bins that leave nothing, naming the parameters', () => {
    expect(() => downsampleGeometry(5, 3, 5, { ...ALL, xStart: 5, binning: [1, 1, 1] })).toThrow(/x_start 5 and x_end -1 leave no pixels/);
    expect(() => downsampleGeometry(5, 3, 5, { ...ALL, binning: [1, 4, 1] })).toThrow(UsageError);
    expect(() => downsampleGeometry(5, 3, 5, { ...ALL, binning: [1.5, 1, 1] })).toThrow(/binsize\[0\] \(x\)/);
  });

  it('keeps volumes: bins x–y in every plane, z untouched', async () => {
    const vol = Float32Array.from({ length: 4 * 2 * 3 }, (_, i) => i);
    const st = downsampleStack(memoryStack([vol], { width: 4, height: 2, depth: 3 }), { ...ALL, binning: [2, 2, 1] });
    expect([st.width, st.height, st.depth]).toEqual([2, 1, 3]);
    // plane z: values 8z + (0,1,4,5) → mean 8z + 2.5, and 8z + (2,3,6,7) → 8z + 4.5
    expect(Array.from(await st.readFrame(0))).toEqual([2.5, 4.5, 10.5, 12.5, 18.5, 20.5]);
  });
});
