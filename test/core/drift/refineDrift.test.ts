/**
 * Issue 10: parameters chosen from the data and the fine stage, on simulated acquisitions with
 * known drift — dense, fast with jumps, sparse, 3D, with beads — each with its bound, at the
 * library's defaults (`estimateDriftFromLocs(table)` with no options).
 */
import { driftRmse } from '../../helpers/driftError.js';
import { describe, expect, it } from 'vitest';
import {
  chooseBinSize,
  chooseWindowCount,
  estimatePrecision,
  makeCountWindows,
  MAX_AUTO_WINDOWS,
  MAX_AUTO_WINDOWS_REFINED,
  MIN_AUTO_WINDOWS,
  nenaPrecision,
} from '../../../src/core/drift/autoParameters.js';
import { createDriftInterpolator } from '../../../src/core/drift/driftInterpolator.js';
import { estimateDriftFromLocs } from '../../../src/core/drift/estimateDriftFromLocs.js';
import { crossValidatedSmoothing, fitCubicSmoothingSpline } from '../../../src/core/spline/cubicSmoothingSpline.js';
import { simulateLocalizations, type SimulateLocalizationsOptions } from '../../../src/core/simulate/index.js';
import type { DriftTrace } from '../../../src/core/types.js';

const rmse = driftRmse;

/** Targets of issue 10 (nm, per axis, offset removed). */
const DENSE_BOUND_NM = 1.0;
const FAST_JUMPS_BOUND_NM = 5;
const SPARSE_BOUND_NM = 6;
const THREE_D_LATERAL_BOUND_NM = 1.5;
const THREE_D_AXIAL_BOUND_NM = 2;
const BEADS_BOUND_NM = 0.5;
/** A detected jump lies within this many frames of the true one. */
const JUMP_FRAME_TOLERANCE = 50;

describe('parameters from the data', () => {
  it('bins from the precision, coarser when the fine stage follows', () => {
    expect(chooseBinSize(10)).toBe(13);
    expect(chooseBinSize(10, true)).toBe(40);
    expect(chooseBinSize(0.1)).toBe(5);
    expect(chooseBinSize(1000)).toBe(100);
  });

  it('windows by localization count, within bounds', () => {
    expect(chooseWindowCount(130_000)).toBe(43);
    expect(chooseWindowCount(12_000)).toBe(MIN_AUTO_WINDOWS);
    expect(chooseWindowCount(5_000_000)).toBe(MAX_AUTO_WINDOWS);
    expect(chooseWindowCount(5_000_000, true)).toBe(MAX_AUTO_WINDOWS_REFINED);
    // Density falling 10× over the acquisition (bleaching): windows still hold equal counts.
    const t: number[] = [];
    for (let f = 0; f < 10_000; f++) {
      const k = Math.round(20 * Math.exp(-f / 4000));
      for (let i = 0; i < k; i++) t.push(f);
    }
    const windows = makeCountWindows(Float64Array.from(t), 20);
    expect(windows).toHaveLength(20);
    const counts = windows.map((w) => w.to - w.from);
    const target = t.length / 20;
    for (const c of counts) expect(Math.abs(c - target)).toBeLessThan(25);
    // Later windows span more frames.
    expect(windows[19].endFrame - windows[19].startFrame).toBeGreaterThan(3 * (windows[0].endFrame - windows[0].startFrame));
    // Cut at breaks.
    const cut = makeCountWindows(Float64Array.from(t), 20, [5000]);
    expect(cut.some((w) => w.startFrame === 5000)).toBe(true);
    expect(cut.every((w) => !(w.startFrame < 5000 && w.endFrame > 5000))).toBe(true);
  });

  it.each([
    { photonsMedian: 350, seed: 2 },
    { photonsMedian: 1500, seed: 3 },
    { photonsMedian: 150, seed: 4, meanOnFrames: 2 },
  ])('NeNA finds the precision of the simulation (%o)', (o) => {
    const { table } = simulateLocalizations({ locs: 60_000, frames: 10_000, ...o });
    const c = table.columns;
    const truth = estimatePrecision(c).lateralNm; // the error_x/error_y columns
    const nena = nenaPrecision(c.get('x')!, c.get('y')!, c.get('t')!).lateralNm;
    expect(Math.abs(nena / truth - 1)).toBeLessThan(0.2);
  });

  it('reads the precision column when there is one', () => {
    const { table } = simulateLocalizations({ locs: 20_000, frames: 5000, seed: 5 });
    const p = estimatePrecision(table.columns);
    expect(p.source).toContain('error_x');
    const uncertainty = new Map(table.columns);
    uncertainty.set('uncertainty [nm]', uncertainty.get('error_x')!);
    uncertainty.delete('error_x');
    uncertainty.delete('error_y');
    expect(estimatePrecision(uncertainty).source).toContain('uncertainty');
  });
});

describe('cubic smoothing spline', () => {
  const t = Float64Array.from({ length: 60 }, (_, i) => i * 10 + (i % 3));
  const y = Float64Array.from(t, (v) => Math.sin(v / 80) * 5 + ((v * 7919) % 13) / 13 - 0.5);
  const w = new Float64Array(60).fill(1);

  it('interpolates at λ → 0 and is the least-squares line at λ → ∞', () => {
    const interp = fitCubicSmoothingSpline(t, y, w, 1e-9);
    for (let i = 0; i < t.length; i++) expect(interp.f[i]).toBeCloseTo(y[i], 5);
    const line = fitCubicSmoothingSpline(t, y, w, 1e18);
    const mt = t.reduce((a, b) => a + b) / t.length;
    const my = y.reduce((a, b) => a + b) / y.length;
    let sxy = 0;
    let sxx = 0;
    for (let i = 0; i < t.length; i++) {
      sxy += (t[i] - mt) * (y[i] - my);
      sxx += (t[i] - mt) ** 2;
    }
    const slope = sxy / sxx;
    for (let i = 0; i < t.length; i++) expect(line.f[i]).toBeCloseTo(my + slope * (t[i] - mt), 4);
  });

  it('cross-validation smooths noise but follows the signal', () => {
    const { spline } = crossValidatedSmoothing(t, y, w);
    let errSmooth = 0;
    let errRaw = 0;
    for (let i = 0; i < t.length; i++) {
      const truth = Math.sin(t[i] / 80) * 5;
      errSmooth += (spline.f[i] - truth) ** 2;
      errRaw += (y[i] - truth) ** 2;
    }
    expect(errSmooth).toBeLessThan(errRaw / 2);
  });
});

async function measure(o: SimulateLocalizationsOptions) {
  const sim = simulateLocalizations(o);
  const warnings: string[] = [];
  const result = await estimateDriftFromLocs(sim.table, {}, { progress: { warn: (m) => warnings.push(m) } });
  return { sim, result, warnings, errors: rmse(result.drift, sim.truth, o.dim === 3 ? 3 : 2) };
}

describe('estimateDriftFromLocs at its defaults (RCC + fine stage)', () => {
  it.each([
    { name: 'dense 2D, 20 µm', locs: 130_000, frames: 30_000, seed: 11 },
    { name: 'dense 2D, 12 µm, precise', locs: 100_000, frames: 20_000, seed: 12, fieldNm: 12_000, photonsMedian: 800 },
    { name: 'dense 2D, dim, fast blinking', locs: 130_000, frames: 30_000, seed: 13, photonsMedian: 200, meanOnFrames: 1.5 },
  ])(
    '$name: ≤ DENSE_BOUND_NM',
    async (o) => {
      const { errors } = await measure(o);
      for (const e of errors) expect(e).toBeLessThan(DENSE_BOUND_NM);
    },
    60_000,
  );

  it('fast drift with two jumps: the jumps are found and the drift followed', async () => {
    const jumps = [
      { frame: 9000, xNm: 110, yNm: -70 },
      { frame: 19500, xNm: -60, yNm: 120 },
    ];
    const { errors, result } = await measure({
      locs: 130_000,
      frames: 30_000,
      seed: 21,
      oscillations: [
        { amplitudeNm: 60, periodFrames: 4000 },
        { amplitudeNm: 40, periodFrames: 5000 },
      ],
      jumps,
    });
    for (const e of errors) expect(e).toBeLessThan(FAST_JUMPS_BOUND_NM);
    const found = result.refinement!.detectedBreaks;
    expect(found).toHaveLength(2);
    jumps.forEach((j, k) => expect(Math.abs(found[k] - j.frame)).toBeLessThan(JUMP_FRAME_TOLERANCE));
  }, 60_000);

  it('sparse (12 k localizations over 30 k frames): ≤ SPARSE_BOUND_NM', async () => {
    const { errors } = await measure({ locs: 12_000, frames: 30_000, seed: 31 });
    for (const e of errors) expect(e).toBeLessThan(SPARSE_BOUND_NM);
  }, 60_000);

  it('3D: lateral and axial bounds, z found by the fine stage alone', async () => {
    const { errors } = await measure({ locs: 130_000, frames: 30_000, dim: 3, fieldNm: 9000, driftAmplitudeZNm: 200, seed: 41 });
    expect(errors[0]).toBeLessThan(THREE_D_LATERAL_BOUND_NM);
    expect(errors[1]).toBeLessThan(THREE_D_LATERAL_BOUND_NM);
    expect(errors[2]).toBeLessThan(THREE_D_AXIAL_BOUND_NM);
  }, 90_000);

  it('always-on beads: ≤ BEADS_BOUND_NM', async () => {
    const { errors } = await measure({ locs: 130_000, frames: 30_000, beads: 4, seed: 51 });
    for (const e of errors) expect(e).toBeLessThan(BEADS_BOUND_NM);
  }, 90_000);

  it('explains what it chose', async () => {
    const { result } = await measure({ locs: 30_000, frames: 6000, seed: 61 });
    expect(result.choices.summary).toMatch(/bin [\d.]+ nm from a median precision of [\d.]+ nm/);
    expect(result.choices.summary).toMatch(/\d+ windows of ~\d+ localizations; refined in \d+ segments/);
  }, 60_000);
});
