import { describe, expect, it } from 'vitest';
import { applyDriftToStack, convertFrame } from '../../../src/core/image/applyDriftToStack.js';
import { createDriftInterpolator } from '../../../src/core/drift/driftInterpolator.js';
import { estimateDriftFromImages } from '../../../src/core/drift/estimateDriftFromImages.js';
import { simulateImageStack } from '../../../src/core/simulate/simulateImageStack.js';
import type { DriftTrace } from '../../../src/core/types.js';
import { memoryStack } from './memoryStack.js';

/** Noise-free frames corrected with the true drift match frame 0 to this fraction of the peak. */
const CORRECTED_MATCH_FRACTION = 0.01;
/** Drift re-measured on the corrected stack (nm, max |drift|). */
const RESIDUAL_DRIFT_NM = 0.5;
/**
 * Volumes of 8 planes: the axial PSF spans several planes, so the z shift of a volume cut off
 * at its first and last plane is less exact, and z is measured less precisely (≈ 0.5 nm RMSE
 * on the uncorrected stack); measured 1.1 nm.
 */
const RESIDUAL_DRIFT_3D_NM = 2;

const exact = (trace: DriftTrace) => createDriftInterpolator([trace], { degree: 1, smoothing: 0, extrapolation: 'linear' });

describe('applyDriftToStack', () => {
  it('moves frame content by +drift/voxel: the true drift makes every frame match frame 0', async () => {
    const sim = simulateImageStack({ frames: 8, pixelNm: 20, width: 128, height: 96, noiseSd: 0, seed: 9 });
    const corrected = applyDriftToStack(sim.stack, exact(sim.truth), { paddingMultiplier: 1 });
    expect(corrected.dtype).toBe('float32');
    const ref = sim.renderFrame(0);
    const peak = Math.max(...ref);
    for (let i = 1; i < 8; i++) {
      const f = await corrected.readFrame(i);
      const raw = sim.renderFrame(i);
      let worst = 0;
      let worstRaw = 0;
      for (let k = 0; k < f.length; k++) {
        worst = Math.max(worst, Math.abs(f[k] - ref[k]));
        worstRaw = Math.max(worstRaw, Math.abs(raw[k] - ref[k]));
      }
      expect(worst, `frame ${i}: corrected vs frame 0`).toBeLessThanOrEqual(CORRECTED_MATCH_FRACTION * peak);
      expect(worstRaw, `frame ${i} drifted in the first place`).toBeGreaterThan(10 * CORRECTED_MATCH_FRACTION * peak);
    }
    const again = await estimateDriftFromImages(corrected, { method: 'RCC', shiftMaxNm: 5, corrWindow: 5 });
    for (const axis of ['x', 'y'] as const) {
      expect(Math.max(...again.drift[axis].map(Math.abs)), `residual ${axis}`).toBeLessThanOrEqual(RESIDUAL_DRIFT_NM);
    }
    corrected.dispose();
  });

  it('shifts volumes in 3D', async () => {
    const sim = simulateImageStack({ frames: 4, pixelNm: 40, dim: 3, width: 64, height: 64, depth: 8, noiseSd: 0, seed: 3 });
    const corrected = applyDriftToStack(sim.stack, exact(sim.truth), { paddingMultiplier: 1 });
    const again = await estimateDriftFromImages(corrected, { method: 'RCC', shiftMaxNm: 5, corrWindow: 5 });
    expect(Math.max(...sim.truth.z.map(Math.abs))).toBeGreaterThan(10);
    for (const axis of ['x', 'y', 'z'] as const) {
      expect(Math.max(...again.drift[axis].map(Math.abs)), `residual ${axis}`).toBeLessThanOrEqual(RESIDUAL_DRIFT_3D_NM);
    }
  });

  it('keeps integer types (rounded, clamped) unless float output is asked', async () => {
    const frame = Uint16Array.from({ length: 64 }, (_, i) => (i === 27 ? 65535 : 100));
    const st = memoryStack([frame, frame], { width: 8, height: 8 }, { dtype: 'uint16', voxelSizeNm: [100, 100, 100] });
    const drift = exact({ t: Float64Array.of(0, 1), x: Float64Array.of(0, 100), y: Float64Array.of(0, 0), z: Float64Array.of(0, 0) });
    const out = applyDriftToStack(st, drift, { paddingMultiplier: 1 });
    expect(out.dtype).toBe('uint16');
    const f1 = await out.readFrame(1);
    expect(f1).toBeInstanceOf(Uint16Array);
    expect(f1[28]).toBe(65535); // hot pixel moved by +1 px in x
    expect(f1[27]).toBe(100);
    expect(f1[0]).toBe(0); // zeros came in from the padding at the left edge
    const fl = applyDriftToStack(st, drift, { paddingMultiplier: 1, floatOutput: true });
    expect(fl.dtype).toBe('float32');
    expect((await fl.readFrame(1))[28]).toBeCloseTo(65535, 0);
    expect(Array.from(convertFrame(Float32Array.of(-3.2, 1.5, 70000), 'uint16'))).toEqual([0, 2, 65535]);
    expect(Array.from(convertFrame(Float32Array.of(-40000, 1.4), 'int16'))).toEqual([-32768, 1]);
  });

  it('warns when the drift does not cover the stack, and extrapolates', async () => {
    const frame = new Float32Array(64);
    const st = memoryStack(
      Array.from({ length: 6 }, () => frame),
      { width: 8, height: 8 },
    );
    const drift = exact({ t: Float64Array.of(0, 2), x: Float64Array.of(0, 20), y: Float64Array.of(0, 0), z: Float64Array.of(0, 0) });
    const warnings: string[] = [];
    const out = applyDriftToStack(st, drift, { paddingMultiplier: 1 }, { progress: { warn: (m) => warnings.push(m) } });
    expect(warnings.join()).toMatch(/covers frames 0–2 but the stack spans frames 0–5; .*linear extrapolation/);
    expect(Array.from(out.driftNm.x)).toEqual([0, 10, 20, 30, 40, 50]);
  });

  it('evaluates binned stacks at their binned frame times and refuses bad voxel sizes', () => {
    const frame = new Float32Array(64);
    const binned = memoryStack([frame, frame], { width: 8, height: 8 }, { metadata: { 'recipe.binning': [1, 1, 10] } });
    const drift = exact({ t: Float64Array.of(0, 100), x: Float64Array.of(0, 100), y: Float64Array.of(0, 0), z: Float64Array.of(0, 0) });
    expect(Array.from(applyDriftToStack(binned, drift, { paddingMultiplier: 1 }).driftNm.x)).toEqual([5, 15]);
    const bad = memoryStack([frame], { width: 8, height: 8 }, { voxelSizeNm: [0, 100, 100] });
    expect(() => applyDriftToStack(bad, drift, { paddingMultiplier: 1 })).toThrow(/voxel size x is 0 nm/);
  });
});
