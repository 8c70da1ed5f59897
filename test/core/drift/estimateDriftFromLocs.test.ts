import { describe, expect, it } from 'vitest';
import { estimateDriftFromLocs, type LocsRccOptions } from '../../../src/core/drift/estimateDriftFromLocs.js';
import { createDriftInterpolator } from '../../../src/core/drift/driftInterpolator.js';
import { simulateLocalizations } from '../../../src/core/simulate/simulateLocalizations.js';
import type { DriftTrace } from '../../../src/core/types.js';
import { rmseAfterOffset } from '../../helpers/expectClose.js';

/** Issue 2's acceptance bound on the seed-sized 2D dataset (the original reaches ~1–2 nm). */
const RMSE_2D_NM = 2;
/** 3D recovery bounds per window (axial precision is ~2.5× worse than lateral in the simulation). */
const RMSE_3D_XY_NM = 3;
const RMSE_3D_Z_NM = 2;

const seedOptions: LocsRccOptions = {
  refine: false,
  stepFrames: 1000,
  windowFrames: 1000,
  binSizeNm: 20,
  flattenZ: false,
  tukeySize: 0.25,
  method: 'RCC',
  shiftMaxNm: 5,
  corrWindow: 5,
};

/** RMSE per axis of the smoothed estimate against the truth at every frame within the sampled range. */
function errors(est: DriftTrace, truth: DriftTrace): { x: number; y: number; z: number } {
  const interp = createDriftInterpolator([est], { degree: 3, smoothing: 10, extrapolation: 'linear' });
  const first = Math.ceil(est.t[0]);
  const last = Math.floor(est.t[est.t.length - 1]);
  const frames = Float64Array.from({ length: last - first + 1 }, (_, i) => first + i);
  const e = interp.evaluate(frames);
  const tr = (a: Float64Array) => frames.map((f) => a[f]);
  return { x: rmseAfterOffset(e.x, tr(truth.x)), y: rmseAfterOffset(e.y, tr(truth.y)), z: rmseAfterOffset(e.z, tr(truth.z)) };
}

describe('estimateDriftFromLocs on simulated data with known drift', () => {
  it(`recovers 2D drift (130k locs, 30 000 frames, step = window = 1000, bin 20 nm) with RMSE ≤ ${RMSE_2D_NM} nm per axis`, async () => {
    const sim = simulateLocalizations({ frames: 30000, locs: 130000, dim: 2, seed: 1 });
    const c = sim.table.columns;
    const res = await estimateDriftFromLocs({ x: c.get('x')!, y: c.get('y')!, t: c.get('t')! }, seedOptions);
    expect(res.windows.length).toBe(30);
    expect(res.drift.x[0]).toBe(0);
    const err = errors(res.drift, sim.truth);
    console.log(`2D RMSE after offset removal: x ${err.x.toFixed(2)} nm, y ${err.y.toFixed(2)} nm`);
    expect(err.x).toBeLessThanOrEqual(RMSE_2D_NM);
    expect(err.y).toBeLessThanOrEqual(RMSE_2D_NM);
  });

  it('recovers z drift in 3D (z binned)', async () => {
    const sim = simulateLocalizations({ frames: 20000, locs: 120000, dim: 3, seed: 3, fieldNm: 10000 });
    const c = sim.table.columns;
    const res = await estimateDriftFromLocs(
      { x: c.get('x')!, y: c.get('y')!, z: c.get('z')!, t: c.get('t')! },
      { ...seedOptions, stepFrames: 2000, windowFrames: 2000, binSizeNm: 30 },
    );
    // RCC measures each window's mean position: compare with the truth averaged over each
    // window (with 2000-frame windows the curvature of the drift alone moves the window
    // centre's value by several nm from that mean).
    const meanTruth = (a: Float64Array) =>
      Float64Array.from(res.windows, (w) => {
        let s = 0;
        for (let f = w.startFrame; f < w.endFrame; f++) s += a[f];
        return s / (w.endFrame - w.startFrame);
      });
    const err = {
      x: rmseAfterOffset(res.drift.x, meanTruth(sim.truth.x)),
      y: rmseAfterOffset(res.drift.y, meanTruth(sim.truth.y)),
      z: rmseAfterOffset(res.drift.z, meanTruth(sim.truth.z)),
    };
    console.log(`3D RMSE vs window-mean truth: x ${err.x.toFixed(2)}, y ${err.y.toFixed(2)}, z ${err.z.toFixed(2)} nm`);
    const span = Math.max(...sim.truth.z) - Math.min(...sim.truth.z);
    expect(span).toBeGreaterThan(50);
    expect(err.x).toBeLessThanOrEqual(RMSE_3D_XY_NM);
    expect(err.y).toBeLessThanOrEqual(RMSE_3D_XY_NM);
    expect(err.z).toBeLessThanOrEqual(RMSE_3D_Z_NM);
  });
});

describe('a gap in the acquisition', () => {
  it('leaves the near-empty window out (with a warning) and keeps the rest accurate', async () => {
    const sim = simulateLocalizations({ frames: 30000, locs: 130000, dim: 2, seed: 2 });
    const c = sim.table.columns;
    const t = c.get('t')!;
    const keep = Array.from(t, (v, i) => (v >= 10000 && v < 11000 ? -1 : i)).filter((i) => i >= 0);
    const pick = (a: ArrayLike<number>) => Float64Array.from(keep, (i) => a[i]);
    const warnings: string[] = [];
    const res = await estimateDriftFromLocs({ x: pick(c.get('x')!), y: pick(c.get('y')!), t: pick(t) }, seedOptions, {
      progress: { warn: (m) => warnings.push(m) },
    });
    expect(res.sparseWindows.length).toBe(1);
    expect(warnings.join('\n')).toMatch(/1 of 30 time windows hold fewer than 10% of the median/);
    expect(res.drift.t.length).toBe(29);
    expect(res.drift.x[0]).toBe(0);
    const meanTruth = (a: Float64Array) =>
      Float64Array.from(res.measuredWindows, (i) => {
        const w = res.windows[i];
        let s = 0;
        for (let f = w.startFrame; f < w.endFrame; f++) s += a[f];
        return s / (w.endFrame - w.startFrame);
      });
    for (const axis of ['x', 'y'] as const) {
      expect(rmseAfterOffset(res.drift[axis], meanTruth(sim.truth[axis])), axis).toBeLessThan(RMSE_2D_NM * 1.5);
    }
  });
});

describe('fast drift within a window', () => {
  it('warns that the windows are smeared and suggests a shorter step', async () => {
    const sim = simulateLocalizations({ frames: 4000, locs: 20000, fieldNm: 8000 });
    const c = sim.table.columns;
    const warnings: string[] = [];
    const cols = { x: c.get('x')!, y: c.get('y')!, t: c.get('t')! };
    await estimateDriftFromLocs(cols, seedOptions, { progress: { warn: (m) => warnings.push(m) } });
    expect(warnings.join('\n')).toMatch(/between consecutive windows .* use a shorter step and window \(e\.g\. 250 frames\)/);
    const quiet: string[] = [];
    await estimateDriftFromLocs(cols, { ...seedOptions, stepFrames: 250, windowFrames: 250 }, { progress: { warn: (m) => quiet.push(m) } });
    expect(quiet.filter((m) => /smeared/.test(m))).toEqual([]);
  });
});

describe('estimateDriftFromLocs input checks', () => {
  const base = { x: Float64Array.from([0, 100, 50]), y: Float64Array.from([0, 100, 50]), t: Float64Array.from([0, 0, 0]) };
  it('refuses a single frame', async () => {
    await expect(estimateDriftFromLocs(base, seedOptions)).rejects.toThrow(/every localization is in frame 0/);
  });
  it('refuses window < step', async () => {
    await expect(estimateDriftFromLocs(base, { ...seedOptions, windowFrames: 3 })).rejects.toThrow(
      '`windowFrames` (3 frames) is shorter than `stepFrames` (1000); the window must be ≥ the step',
    );
  });
  it('names a NaN coordinate', async () => {
    const x = Float64Array.from([0, NaN, 50]);
    await expect(estimateDriftFromLocs({ ...base, x, t: Float64Array.from([0, 1, 2]) }, seedOptions)).rejects.toThrow(
      /column x has a non-finite value \(NaN\) at row 1/,
    );
  });
  it('needs at least two windows', async () => {
    await expect(estimateDriftFromLocs({ ...base, t: Float64Array.from([0, 5, 10]) }, seedOptions)).rejects.toThrow(/only 1 time window/);
  });
});
