import { describe, expect, it } from 'vitest';
import { estimateDriftFromImages, type ImageRccOptions } from '../../../src/core/drift/estimateDriftFromImages.js';
import { prefilterStack } from '../../../src/core/image/prefilterStack.js';
import { downsampleStack } from '../../../src/core/image/downsample.js';
import type { ClipFilterParams } from '../../../src/core/image/clipFilter.js';
import { simulateImageStack } from '../../../src/core/simulate/simulateImageStack.js';
import { InputError, InsufficientDataError, UsageError } from '../../../src/core/errors.js';
import { rmseAfterOffset } from '../../helpers/expectClose.js';
import { memoryStack } from '../image/memoryStack.js';
import { applyDriftToStack } from '../../../src/core/image/applyDriftToStack.js';
import { createDriftInterpolator } from '../../../src/core/drift/driftInterpolator.js';
import { readPymeImage } from '../../../src/io/hdf5/pymeImage.js';
import { haveSharedFixtures, sharedFixture, sharedSkipReason } from '../../helpers/fixtures.js';

/** Issue 4's bound on the simulated 50-frame, 20 nm-pixel stack (after removing the mean offset). */
const RMSE_FINE_NM = 2;
/**
 * Camera-like stack (100 nm pixels, offset 100 + background 10 photons, Poisson, uint16) with
 * the pre-filter's background 'auto': the pedestal is estimated and removed before the Tukey
 * taper (before it was, it pinned the estimate towards zero: 2.4/3.4 nm; measured now 1.34 and
 * 0.94 nm in x and y).
 */
const RMSE_CAMERA_DEFAULTS_NM = 2;
/** Same stack, also clipped at threshold_lower = clip_to_lower = offset + background (measured 1.29 and 0.94 nm). */
const RMSE_CAMERA_CLIPPED_NM = 1.5;
/**
 * Drift left (max − min) after correcting the original's example stack with its own measured
 * drift (nm): the default smoothing spline (s = number of samples, nm²) is allowed ≈ 1 nm RMS
 * off the samples, so a few nm remain over a ≈ 1 µm drift; measured 3.65 nm.
 */
const EXAMPLE_RESIDUAL_NM = 5;
/** 3D stack (8 planes of 100 nm, 40 nm pixels): lateral and axial bounds. */
const RMSE_3D_XY_NM = 2;
const RMSE_3D_Z_NM = 5;

const RCC_DEFAULTS: ImageRccOptions = { method: 'RCC', shiftMaxNm: 5, corrWindow: 5 };
const PREFILTER_DEFAULTS: ClipFilterParams = {
  medianFilterSize: 3,
  thresholdLower: 0,
  clipToLower: 0,
  thresholdUpper: 65535,
  clipToUpper: 0,
  tukeySize: 0.25,
};

function report(label: string, est: Float64Array, truth: ArrayLike<number>): number {
  const e = rmseAfterOffset(est, truth);
  console.log(`${label}: RMSE after offset removal ${e.toFixed(3)} nm`);
  return e;
}

describe('estimateDriftFromImages on simulated stacks with known drift', () => {
  it(`recovers the drift of a 50-frame, 20 nm-pixel stack within ${RMSE_FINE_NM} nm, raw and pre-filtered`, async () => {
    const sim = simulateImageStack({ frames: 50, pixelNm: 20, seed: 2 });
    for (const [name, stack] of [
      ['raw', sim.stack],
      ['pre-filtered', prefilterStack(sim.stack, PREFILTER_DEFAULTS)],
    ] as const) {
      const res = await estimateDriftFromImages(stack, RCC_DEFAULTS);
      expect(Array.from(res.drift.t)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect(res.drift.x[0]).toBe(0);
      expect(res.drift.z.every((v) => v === 0)).toBe(true);
      expect(report(`${name} x`, res.drift.x, sim.truth.x)).toBeLessThanOrEqual(RMSE_FINE_NM);
      expect(report(`${name} y`, res.drift.y, sim.truth.y)).toBeLessThanOrEqual(RMSE_FINE_NM);
    }
  });

  it('works with background auto on a camera-like uint16 stack, and with the pedestal clipped by hand', async () => {
    const sim = simulateImageStack({ frames: 50, pixelNm: 100, dtype: 'uint16', offset: 100, backgroundPhotons: 10, seed: 4 });
    expect(sim.stack.dtype).toBe('uint16');
    const defaults = await estimateDriftFromImages(prefilterStack(sim.stack, PREFILTER_DEFAULTS), RCC_DEFAULTS);
    expect(report('camera defaults x', defaults.drift.x, sim.truth.x)).toBeLessThanOrEqual(RMSE_CAMERA_DEFAULTS_NM);
    expect(report('camera defaults y', defaults.drift.y, sim.truth.y)).toBeLessThanOrEqual(RMSE_CAMERA_DEFAULTS_NM);
    const pedestal = { ...PREFILTER_DEFAULTS, thresholdLower: 110, clipToLower: 110 };
    const clipped = await estimateDriftFromImages(prefilterStack(sim.stack, pedestal), RCC_DEFAULTS);
    expect(report('camera clipped x', clipped.drift.x, sim.truth.x)).toBeLessThanOrEqual(RMSE_CAMERA_CLIPPED_NM);
    expect(report('camera clipped y', clipped.drift.y, sim.truth.y)).toBeLessThanOrEqual(RMSE_CAMERA_CLIPPED_NM);
  });

  it('measures x, y and z drift from volumes', async () => {
    const sim = simulateImageStack({ frames: 20, pixelNm: 40, dim: 3, width: 96, height: 96, depth: 8, zStepNm: 100, seed: 5 });
    const res = await estimateDriftFromImages(sim.stack, RCC_DEFAULTS);
    expect(report('3D x', res.drift.x, sim.truth.x)).toBeLessThanOrEqual(RMSE_3D_XY_NM);
    expect(report('3D y', res.drift.y, sim.truth.y)).toBeLessThanOrEqual(RMSE_3D_XY_NM);
    expect(report('3D z', res.drift.z, sim.truth.z)).toBeLessThanOrEqual(RMSE_3D_Z_NM);
    expect(Math.max(...sim.truth.z.map(Math.abs))).toBeGreaterThan(30);
  });

  it('samples binned stacks at index·bt + bt/2 and scales shifts by the binned voxel size', async () => {
    const sim = simulateImageStack({ frames: 40, pixelNm: 20, seed: 6 });
    const binned = downsampleStack(sim.stack, { xStart: 0, xEnd: -1, yStart: 0, yEnd: -1, binning: [2, 2, 4] });
    const res = await estimateDriftFromImages(binned, RCC_DEFAULTS);
    expect(Array.from(res.drift.t)).toEqual(Array.from({ length: 10 }, (_, i) => 4 * i + 2));
    // Each binned frame shows the mean position over its 4 frames.
    const meanTruth = (a: Float64Array) => Float64Array.from({ length: 10 }, (_, i) => (a[4 * i] + a[4 * i + 1] + a[4 * i + 2] + a[4 * i + 3]) / 4);
    expect(report('binned x', res.drift.x, meanTruth(sim.truth.x))).toBeLessThanOrEqual(RMSE_FINE_NM);
    expect(report('binned y', res.drift.y, meanTruth(sim.truth.y))).toBeLessThanOrEqual(RMSE_FINE_NM);
  });

  it('DCC and MCC run the same front end', async () => {
    const sim = simulateImageStack({ frames: 12, pixelNm: 20, width: 128, height: 128, seed: 7 });
    for (const method of ['DCC', 'MCC'] as const) {
      const res = await estimateDriftFromImages(sim.stack, { ...RCC_DEFAULTS, method, corrWindow: -1 });
      expect(res.pairs.length / 2).toBe(method === 'DCC' ? 11 : 66);
      expect(report(`${method} x`, res.drift.x, sim.truth.x)).toBeLessThanOrEqual(RMSE_FINE_NM);
    }
  });
});

describe('estimateDriftFromImages on bad input', () => {
  const frame = new Float32Array(16 * 16).fill(1);
  it('refuses a single image with a message about the time axis', async () => {
    await expect(estimateDriftFromImages(memoryStack([frame], { width: 16, height: 16 }), RCC_DEFAULTS)).rejects.toThrow(InsufficientDataError);
    await expect(estimateDriftFromImages(memoryStack([frame], { width: 16, height: 16 }), RCC_DEFAULTS)).rejects.toThrow(/1 time point .*at least two frames/);
  });
  it('refuses a missing voxel size, NaN pixels and bad options', async () => {
    const st = memoryStack([frame, frame], { width: 16, height: 16 }, { voxelSizeNm: [NaN, 100, 100] });
    await expect(estimateDriftFromImages(st, RCC_DEFAULTS)).rejects.toThrow(/voxel size x is NaN nm/);
    const nan = Float32Array.from(frame);
    nan[20] = NaN;
    await expect(estimateDriftFromImages(memoryStack([frame, nan], { width: 16, height: 16 }), RCC_DEFAULTS)).rejects.toThrow(InputError);
    await expect(estimateDriftFromImages(memoryStack([frame, frame], { width: 16, height: 16 }), { ...RCC_DEFAULTS, shiftMaxNm: 0 })).rejects.toThrow(
      UsageError,
    );
  });
});

describe.skipIf(!haveSharedFixtures)(`the original plugin's example image stack (${haveSharedFixtures ? 'present' : sharedSkipReason})`, () => {
  it('runs the example recipe end to end: Clip&Filter (median off) → Image_RCC (all pairs) → Drift_Interpolate → Image_Post_Shift', async () => {
    const input = await readPymeImage(sharedFixture('seed-example', 'wormlike_simulated_images_with_drift.h5'));
    expect([input.width, input.height, input.frames, input.dtype]).toEqual([448, 448, 10, 'float32']);
    expect(input.voxelSizeNm.slice(0, 2)).toEqual([20, 20]);
    const clipped = prefilterStack(input, { ...PREFILTER_DEFAULTS, medianFilterSize: -1 });
    const res = await estimateDriftFromImages(clipped, { ...RCC_DEFAULTS, corrWindow: -1 });
    const span = (a: Float64Array) => Math.max(...a) - Math.min(...a);
    console.log(`example drift x: ${Array.from(res.drift.x, (v) => v.toFixed(1)).join(', ')}`);
    console.log(`example drift y: ${Array.from(res.drift.y, (v) => v.toFixed(1)).join(', ')}`);
    expect(span(res.drift.x) + span(res.drift.y)).toBeGreaterThan(50);
    const interpolator = createDriftInterpolator([res.drift], { degree: 3, smoothing: -1, extrapolation: 'linear' });
    const corrected = applyDriftToStack(input, interpolator, { paddingMultiplier: 1 });
    expect(corrected.dtype).toBe('float32');
    const again = await estimateDriftFromImages(prefilterStack(corrected, { ...PREFILTER_DEFAULTS, medianFilterSize: -1 }), {
      ...RCC_DEFAULTS,
      corrWindow: -1,
    });
    const residual = Math.max(span(again.drift.x), span(again.drift.y));
    console.log(`example: residual drift after correction spans ${residual.toFixed(2)} nm`);
    expect(residual).toBeLessThanOrEqual(EXAMPLE_RESIDUAL_NM);
    corrected.dispose();
  });
});
