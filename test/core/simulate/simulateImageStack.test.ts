import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import { simulateImageStack } from '../../../src/core/simulate/simulateImageStack.js';
import type { NumericArray } from '../../../src/core/types.js';

/** Noise-free frames: the intensity centroid moves by exactly −truth / pixel (pixel-integrated Gaussians). */
const NOISE_FREE_CENTROID_TOLERANCE_PX = 1e-3;
/** Sample statistics of the noise over one frame's pixels. */
const NOISE_MEAN_TOLERANCE = 0.02;
const NOISE_VARIANCE_RTOL = 0.03;
/** Camera-like frames: Poisson noise on a 10-photon background over 128² pixels. */
const CAMERA_CENTROID_TOLERANCE_PX = 0.25;

/** Intensity-weighted centroid (pixels) of `data` above `background`, along x, y, z. */
function centroid(data: NumericArray, width: number, height: number, depth: number, background: number): number[] {
  let s = 0;
  let sx = 0;
  let sy = 0;
  let sz = 0;
  for (let z = 0; z < depth; z++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = data[(z * height + y) * width + x] - background;
        s += v;
        sx += v * x;
        sy += v * y;
        sz += v * z;
      }
    }
  }
  return [sx / s, sy / s, sz / s];
}

/** Number of indices where two frames differ (toEqual is slow on large typed arrays). */
function countDifferent(a: NumericArray, b: NumericArray): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) n++;
  return n;
}

function expectShift(label: string, c0: number[], ck: number[], expectedPx: number[], tolerancePx: number): void {
  for (let a = 0; a < expectedPx.length; a++) {
    const got = ck[a] - c0[a];
    expect(Math.abs(got - expectedPx[a]), `${label}, axis ${'xyz'[a]}: shift ${got} px, expected ${expectedPx[a]} px`).toBeLessThan(tolerancePx);
  }
}

describe('simulateImageStack', () => {
  it('makes fine float32 2D frames of the stated size, deterministic per seed and frame', async () => {
    const sim = simulateImageStack({ frames: 5, seed: 2 });
    const { stack } = sim;
    expect([stack.width, stack.height, stack.depth, stack.frames, stack.dtype]).toEqual([256, 256, 1, 5, 'float32']);
    expect(stack.voxelSizeNm.slice(0, 2)).toEqual([20, 20]);
    expect(stack.metadata['voxelsize.x']).toBe(0.02);
    const f3 = await stack.readFrame(3);
    expect(f3).toBeInstanceOf(Float32Array);
    expect(f3.length).toBe(256 * 256);
    // Reading again, in another order, or through the synchronous form gives the same frame.
    await stack.readFrame(1);
    expect(countDifferent(await stack.readFrame(3), f3)).toBe(0);
    expect(countDifferent(sim.renderFrame(3), f3)).toBe(0);
    expect(countDifferent(simulateImageStack({ frames: 5, seed: 2 }).renderFrame(3), f3)).toBe(0);
    expect(countDifferent(simulateImageStack({ frames: 5, seed: 3 }).renderFrame(3), f3)).toBeGreaterThan(f3.length / 2);
    // Frames differ from each other (noise, drift).
    expect(countDifferent(sim.renderFrame(2), f3)).toBeGreaterThan(f3.length / 2);
    // Structure with low noise: a bright filament over a zero-mean background.
    let max = -Infinity;
    let below = 0;
    for (const v of f3) {
      max = Math.max(max, v);
      if (v < 0.5) below++;
    }
    expect(max).toBeGreaterThan(50);
    expect(below / f3.length).toBeGreaterThan(0.3);
    await expect(stack.readFrame(5)).rejects.toThrow(/frame index must be an integer in \[0, 4\]; received 5/);
  });

  it('samples the truth per time point with truth[0] = 0, z = 0 in 2D', () => {
    const { truth } = simulateImageStack({ frames: 50 });
    expect(truth.t.length).toBe(50);
    expect([truth.x[0], truth.y[0], truth.z[0]]).toEqual([0, 0, 0]);
    expect(truth.z.every((v) => v === 0)).toBe(true);
    expect(truth.x.some((v) => Math.abs(v) > 50)).toBe(true);
  });

  it('shifts the structure by exactly −truth / pixel (noise-free)', () => {
    const pixelNm = 20;
    const jump = { frame: 20, xNm: 90, yNm: -60 };
    const sim = simulateImageStack({ frames: 30, pixelNm, noiseSd: 0, seed: 5, jumps: [jump] });
    const { stack, truth } = sim;
    const c0 = centroid(sim.renderFrame(0), stack.width, stack.height, 1, 0);
    for (const k of [1, 10, 19, 20, 29]) {
      const ck = centroid(sim.renderFrame(k), stack.width, stack.height, 1, 0);
      expectShift(`frame ${k}`, c0, ck, [-truth.x[k] / pixelNm, -truth.y[k] / pixelNm], NOISE_FREE_CENTROID_TOLERANCE_PX);
    }
    const smooth = simulateImageStack({ frames: 30, pixelNm, noiseSd: 0, seed: 5 }).truth;
    expect(truth.x[29] - smooth.x[29]).toBeCloseTo(jump.xNm, 9);
    expect(truth.y[20] - smooth.y[20]).toBeCloseTo(jump.yNm, 9);
    expect(truth.y[19] - smooth.y[19]).toBe(0);
  });

  it('adds zero-mean Gaussian noise of sd noiseSd to the same structure', () => {
    const noisy = simulateImageStack({ frames: 3, seed: 6, noiseSd: 2 }).renderFrame(2);
    const clean = simulateImageStack({ frames: 3, seed: 6, noiseSd: 0 }).renderFrame(2);
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < noisy.length; i++) {
      const r = noisy[i] - clean[i];
      sum += r;
      sumSq += r * r;
    }
    const n = noisy.length;
    expect(Math.abs(sum / n)).toBeLessThan(NOISE_MEAN_TOLERANCE);
    expect(Math.abs(sumSq / n / 4 - 1)).toBeLessThan(NOISE_VARIANCE_RTOL);
  });

  it('makes camera-like uint16 frames at 100 nm pixels: offset + background + Poisson noise', () => {
    const sim = simulateImageStack({ frames: 20, pixelNm: 100, seed: 7 });
    const { stack, truth } = sim;
    expect([stack.width, stack.height, stack.depth, stack.dtype]).toEqual([128, 128, 1, 'uint16']);
    const f0 = sim.renderFrame(0);
    expect(f0).toBeInstanceOf(Uint16Array);
    // Background pixels: offset 100 + Poisson(10): median 110, variance ≈ 10.
    const sorted = Float64Array.from(f0).sort();
    const median = sorted[Math.floor(sorted.length / 2)];
    expect(median).toBeGreaterThanOrEqual(108);
    expect(median).toBeLessThanOrEqual(114);
    expect(sorted[0]).toBeGreaterThanOrEqual(100);
    expect(sorted[sorted.length - 1]).toBeGreaterThan(200);
    const background = 110;
    const c0 = centroid(f0, 128, 128, 1, background);
    const k = 19;
    const fk = sim.renderFrame(k);
    const ck = centroid(fk, 128, 128, 1, background);
    expectShift(`frame ${k}`, c0, ck, [-truth.x[k] / 100, -truth.y[k] / 100], CAMERA_CENTROID_TOLERANCE_PX);
    // The same structure rendered noise-free (float32 with the camera defaults spelled out):
    // counts − offset − background are Poisson residuals with variance = background + signal.
    const signal = simulateImageStack({
      frames: 20,
      pixelNm: 100,
      seed: 7,
      dtype: 'float32',
      psfSigmaNm: 130,
      signalPeak: 200,
      noiseSd: 0,
    }).renderFrame(k);
    let sum = 0;
    let sumSq = 0;
    let expectedVariance = 0;
    for (let i = 0; i < fk.length; i++) {
      const r = fk[i] - 100 - 10 - signal[i];
      sum += r;
      sumSq += r * r;
      expectedVariance += 10 + signal[i];
    }
    expect(Math.abs(sum) / Math.sqrt(expectedVariance), 'z-score of the summed residual').toBeLessThan(5);
    expect(Math.abs(sumSq / expectedVariance - 1)).toBeLessThan(NOISE_VARIANCE_RTOL);
  });

  it('makes 3D volumes (x fastest, then y, then z) that drift in z too', () => {
    const zStepNm = 100;
    const depth = 16;
    const sim = simulateImageStack({
      frames: 10,
      dim: 3,
      width: 96,
      height: 80,
      depth,
      zStepNm,
      psfSigmaZNm: 50,
      noiseSd: 0,
      seed: 8,
    });
    const { stack, truth } = sim;
    expect([stack.width, stack.height, stack.depth, stack.dtype]).toEqual([96, 80, depth, 'float32']);
    expect(stack.voxelSizeNm).toEqual([20, 20, zStepNm]);
    expect(truth.z[0]).toBe(0);
    expect(truth.z.some((v) => Math.abs(v) > 30)).toBe(true);
    const f0 = sim.renderFrame(0);
    expect(f0.length).toBe(96 * 80 * depth);
    const c0 = centroid(f0, 96, 80, depth, 0);
    for (const k of [4, 9]) {
      const ck = centroid(sim.renderFrame(k), 96, 80, depth, 0);
      expectShift(`volume ${k}`, c0, ck, [-truth.x[k] / 20, -truth.y[k] / 20, -truth.z[k] / zStepNm], NOISE_FREE_CENTROID_TOLERANCE_PX);
    }
  });

  it('rejects fields too small for the drift and other bad options', () => {
    expect(() => simulateImageStack({ width: 16, height: 16, driftAmplitudeNm: 500 })).toThrow(/too small/);
    expect(() => simulateImageStack({ dim: 1 as 2 })).toThrow(UsageError);
    expect(() => simulateImageStack({ pixelNm: 0 })).toThrow(/pixelNm/);
    expect(() => simulateImageStack({ dtype: 'uint8' as 'uint16' })).toThrow(/dtype/);
    expect(() => simulateImageStack({ frames: 2.5 })).toThrow(/frames must be a positive integer; received 2.5/);
  });
});
