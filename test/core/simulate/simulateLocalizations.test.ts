import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import { simulateLocalizations } from '../../../src/core/simulate/simulateLocalizations.js';
import type { LocTable } from '../../../src/core/types.js';

/** A normalised residual (x_obs + truth − x_true) / error_x has variance 1 up to this. */
const NORMALISED_VARIANCE_TOLERANCE = 0.05;
/** z-score allowed for sample means (fixed seeds make these deterministic). */
const Z_MAX = 5;
/** Per emitter: median distance (nm) of the mean corrected position from the true one ("a few nm"). */
const EMITTER_MEDIAN_OFFSET_NM = 5;

function column(table: LocTable, name: string): Float64Array {
  const c = table.columns.get(name);
  if (!c) throw new Error(`column ${name} missing; have ${[...table.columns.keys()].join(', ')}`);
  return c as Float64Array;
}

/** Number of indices where two arrays differ (exact comparison; toEqual is slow on large typed arrays). */
function countDifferent(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) n++;
  return n;
}

function fractionInside(a: ArrayLike<number>, lo: number, hi: number): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] > lo && a[i] < hi) n++;
  return n / a.length;
}

describe('simulateLocalizations', () => {
  const frames = 6000;
  const locs = 40000;
  const sim2 = simulateLocalizations({ frames, locs, seed: 3, fieldNm: 10000, emitterColumn: true });
  const sim3 = simulateLocalizations({ frames, locs, seed: 3, dim: 3, fieldNm: 10000, emitterColumn: true });

  it('is deterministic for a seed and differs between seeds', () => {
    const again = simulateLocalizations({ frames, locs, seed: 3, fieldNm: 10000, emitterColumn: true });
    expect([...again.table.columns.keys()]).toEqual([...sim2.table.columns.keys()]);
    for (const [name, values] of sim2.table.columns) {
      expect(countDifferent(again.table.columns.get(name)!, values), name).toBe(0);
    }
    for (const axis of ['t', 'x', 'y', 'z'] as const) {
      expect(countDifferent(again.truth[axis], sim2.truth[axis]), `truth.${axis}`).toBe(0);
    }
    const other = simulateLocalizations({ frames, locs, seed: 4, fieldNm: 10000 });
    expect(countDifferent(other.table.columns.get('x')!, sim2.table.columns.get('x')!)).toBeGreaterThan(locs * 0.99);
    expect(countDifferent(other.truth.x, sim2.truth.x)).toBeGreaterThan(frames * 0.99);
  });

  it('has the PYME columns, the exact row count and plausible ranges', () => {
    const { table } = sim2;
    expect(table.length).toBe(locs);
    expect([...table.columns.keys()]).toEqual(['x', 'y', 't', 'A', 'sig', 'error_x', 'error_y', 'photons', 'bg', 'emitter']);
    for (const [name, values] of table.columns) {
      expect(values.length, name).toBe(locs);
      expect(values.every(Number.isFinite), `${name} finite`).toBe(true);
    }
    expect(table.columns.get('emitter')).toBeInstanceOf(Int32Array);
    expect(table.columns.get('x')).toBeInstanceOf(Float64Array);
    // The original's example recipe filters: A in (5, 20000), sig in (95, 200), errors in (0, 30).
    expect(fractionInside(column(table, 'A'), 5, 20000)).toBe(1);
    expect(fractionInside(column(table, 'sig'), 95, 200)).toBe(1);
    expect(fractionInside(column(table, 'error_x'), 0, 30)).toBeGreaterThan(0.97);
    expect(fractionInside(column(table, 'error_y'), 0, 30)).toBeGreaterThan(0.97);
    expect(fractionInside(column(table, 'error_x'), 8, 25)).toBeGreaterThan(0.8);
    expect(fractionInside(column(table, 'photons'), 0, Infinity)).toBe(1);
    expect(fractionInside(column(table, 'bg'), 0, Infinity)).toBe(1);
    expect(table.metadata['voxelsize.x']).toBe(0.1);
    expect(table.metadata['voxelsize.y']).toBe(0.1);
    expect(table.metadata['voxelsize.units']).toBe('um');
    const recorded = table.metadata['ccdrift.simulation'] as Record<string, unknown>;
    expect(recorded).toMatchObject({ frames, locs, seed: 3, dim: 2, fieldNm: 10000 });
  });

  it('has integer t, sorted ascending, in [0, frames), spread over the acquisition', () => {
    const t = column(sim2.table, 't');
    let sorted = true;
    let integral = true;
    for (let i = 0; i < t.length; i++) {
      if (i > 0 && t[i] < t[i - 1]) sorted = false;
      if (!Number.isInteger(t[i])) integral = false;
    }
    expect(sorted).toBe(true);
    expect(integral).toBe(true);
    expect(t[0]).toBeGreaterThanOrEqual(0);
    expect(t[t.length - 1]).toBeLessThan(frames);
    expect(fractionInside(t, -1, frames / 2)).toBeCloseTo(0.5, 1);
  });

  it('samples the truth at every frame with truth at frame 0 = 0 and z = 0 in 2D', () => {
    const { truth } = sim2;
    expect(truth.t.length).toBe(frames);
    expect(truth.t[frames - 1]).toBe(frames - 1);
    expect([truth.x[0], truth.y[0], truth.z[0]]).toEqual([0, 0, 0]);
    expect(truth.z.every((v) => v === 0)).toBe(true);
    const peakX = truth.x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(peakX).toBeGreaterThan(100);
    expect(peakX).toBeLessThanOrEqual(300);
  });

  it('obeys x_observed + truth(t) = x_true + noise with noise of sd error_x', () => {
    for (const [label, { table, truth, emitters }] of [
      ['2D', sim2],
      ['3D', sim3],
    ] as const) {
      const axes = label === '3D' ? (['x', 'y', 'z'] as const) : (['x', 'y'] as const);
      const t = column(table, 't');
      const emitter = table.columns.get('emitter') as Int32Array;
      for (const axis of axes) {
        const obs = column(table, axis);
        const err = column(table, `error_${axis}`);
        const trueAxis = emitters[axis];
        const drift = truth[axis];
        let n = 0;
        let sum = 0;
        let sumSq = 0;
        let sumUncorrectedSq = 0;
        for (let i = 0; i < table.length; i++) {
          const e = emitter[i];
          if (e < 0) continue;
          const r = (obs[i] + drift[t[i]] - trueAxis[e]) / err[i];
          sum += r;
          sumSq += r * r;
          sumUncorrectedSq += ((obs[i] - trueAxis[e]) / err[i]) ** 2;
          n++;
        }
        const mean = sum / n;
        expect(Math.abs(mean), `${label} ${axis}: mean normalised residual`).toBeLessThan(Z_MAX / Math.sqrt(n));
        expect(Math.abs(sumSq / n - 1), `${label} ${axis}: normalised variance`).toBeLessThan(NORMALISED_VARIANCE_TOLERANCE);
        // Without the correction the residuals are much wider: the relation is not vacuous.
        expect(sumUncorrectedSq / n, `${label} ${axis}: uncorrected`).toBeGreaterThan(axis === 'z' ? 1.5 : 4);
      }
    }
  });

  it('puts each emitter, on average over its localizations, where it truly is', () => {
    const { table, truth, emitters } = sim2;
    const t = column(table, 't');
    const emitter = table.columns.get('emitter') as Int32Array;
    const n = emitters.x.length;
    const count = new Float64Array(n);
    const offsets: number[] = [];
    let worstZ = 0;
    for (const axis of ['x', 'y'] as const) {
      const obs = column(table, axis);
      const err = column(table, `error_${axis}`);
      const sum = new Float64Array(n);
      const variance = new Float64Array(n);
      count.fill(0);
      for (let i = 0; i < table.length; i++) {
        const e = emitter[i];
        if (e < 0) continue;
        count[e]++;
        sum[e] += obs[i] + truth[axis][t[i]] - emitters[axis][e];
        variance[e] += err[i] * err[i];
      }
      for (let e = 0; e < n; e++) {
        if (count[e] < 10) continue;
        // The summed residual over an emitter is normal with variance Σ error².
        worstZ = Math.max(worstZ, Math.abs(sum[e]) / Math.sqrt(variance[e]));
        offsets.push(Math.abs(sum[e] / count[e]));
      }
    }
    expect(offsets.length).toBeGreaterThan(2000);
    expect(worstZ).toBeLessThan(Z_MAX);
    offsets.sort((a, b) => a - b);
    expect(offsets[Math.floor(offsets.length / 2)]).toBeLessThan(EMITTER_MEDIAN_OFFSET_NM);
  });

  it('blinks: every time window sees a different random subset of the emitters', () => {
    const { table, emitters } = sim2;
    const t = column(table, 't');
    const emitter = table.columns.get('emitter') as Int32Array;
    const windowFrames = 500;
    const windows = frames / windowFrames;
    const seen: Set<number>[] = Array.from({ length: windows }, () => new Set<number>());
    for (let i = 0; i < table.length; i++) if (emitter[i] >= 0) seen[Math.floor(t[i] / windowFrames)].add(emitter[i]);
    for (const s of seen) {
      const fraction = s.size / emitters.x.length;
      // About 1 − exp(−bursts·window/frames) ≈ 0.24 of the emitters per window.
      expect(fraction).toBeGreaterThan(0.1);
      expect(fraction).toBeLessThan(0.5);
    }
    // Two windows share only about the product of their fractions.
    const shared = [...seen[0]].filter((e) => seen[windows - 1].has(e)).length;
    expect(shared / seen[0].size).toBeLessThan(0.5);
    // Bursts last a few frames: an emitter seen in a frame is often seen in the next.
    let consecutive = 0;
    let total = 0;
    const byFrame = new Map<number, Set<number>>();
    for (let i = 0; i < table.length; i++) {
      if (emitter[i] < 0) continue;
      if (!byFrame.has(t[i])) byFrame.set(t[i], new Set());
      byFrame.get(t[i])!.add(emitter[i]);
    }
    for (const [f, set] of byFrame) {
      const next = byFrame.get(f + 1);
      for (const e of set) {
        total++;
        if (next?.has(e)) consecutive++;
      }
    }
    // Geometric bursts of mean 3 frames continue with probability 2/3.
    expect(consecutive / total).toBeGreaterThan(0.55);
    expect(consecutive / total).toBeLessThan(0.75);
  });

  it('adds about 3% spurious localizations spread over the field', () => {
    const { table } = sim2;
    const emitter = table.columns.get('emitter') as Int32Array;
    const x = column(table, 'x');
    const spuriousX: number[] = [];
    for (let i = 0; i < table.length; i++) if (emitter[i] < 0) spuriousX.push(x[i]);
    expect(spuriousX.length).toBe(Math.round(0.03 * locs));
    // Uniform over [0, 10 µm] (shifted by at most the drift).
    expect(fractionInside(spuriousX, -300, 5000)).toBeCloseTo(0.5, 1);
    expect(fractionInside(spuriousX, -400, 10400)).toBe(1);
  });

  it('in 3D has z, error_z ≈ 2.5× the lateral error, z in range and non-zero truth.z', () => {
    const { table, truth } = sim3;
    expect([...table.columns.keys()]).toEqual(['x', 'y', 'z', 't', 'A', 'sig', 'error_x', 'error_y', 'error_z', 'photons', 'bg', 'emitter']);
    const z = column(table, 'z');
    // Structure ±400 nm, drift ≤ 100 nm, label 5 nm, and axial noise of a few tens of nm.
    expect(fractionInside(z, -550, 550)).toBeGreaterThan(0.995);
    expect(fractionInside(z, -900, 900)).toBe(1);
    expect(fractionInside(z, -200, 200)).toBeGreaterThan(0.2);
    const ex = column(table, 'error_x');
    const ez = column(table, 'error_z');
    let ratio = 0;
    for (let i = 0; i < table.length; i++) ratio += ez[i] / ex[i];
    expect(ratio / table.length).toBeCloseTo(2.5, 1);
    expect(truth.z[0]).toBe(0);
    const peakZ = truth.z.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(peakZ).toBeGreaterThanOrEqual(60);
    expect(peakZ).toBeLessThanOrEqual(100);
    expect(fractionInside(column(table, 'sig'), 95, 200)).toBe(1);
  });

  it('puts jumps into the truth and the data', () => {
    const jumpFrame = 3000;
    const base = simulateLocalizations({ frames, locs: 5000, seed: 9 });
    const jumped = simulateLocalizations({ frames, locs: 5000, seed: 9, jumps: [{ frame: jumpFrame, xNm: 400, yNm: -250 }] });
    expect(jumped.truth.x[jumpFrame] - jumped.truth.x[jumpFrame - 1]).toBeGreaterThan(390);
    expect(jumped.truth.x[jumpFrame - 1]).toBe(base.truth.x[jumpFrame - 1]);
    expect(jumped.truth.y[frames - 1] - base.truth.y[frames - 1]).toBeCloseTo(-250, 9);
    // Same random stream apart from the truth: observed x after the jump is 400 nm lower.
    const t = column(jumped.table, 't');
    const xb = column(base.table, 'x');
    const xj = column(jumped.table, 'x');
    for (const i of [0, 2500, 4999]) {
      expect(xj[i] - xb[i], `row ${i} (t = ${t[i]})`).toBeCloseTo(t[i] >= jumpFrame ? -400 : 0, 6);
    }
    const metadata = jumped.table.metadata['ccdrift.simulation'] as { jumps: unknown };
    expect(metadata.jumps).toEqual([{ frame: jumpFrame, xNm: 400, yNm: -250, zNm: 0 }]);
  });

  it('handles the edge cases: no localizations, one frame, only spurious', () => {
    expect(simulateLocalizations({ locs: 0, frames: 10 }).table.length).toBe(0);
    const one = simulateLocalizations({ locs: 50, frames: 1 });
    expect(Array.from(column(one.table, 't')).every((v) => v === 0)).toBe(true);
    expect(Array.from(one.truth.x)).toEqual([0]);
    const noise = simulateLocalizations({ locs: 100, frames: 10, spuriousFraction: 1, emitterColumn: true });
    expect(Array.from(noise.table.columns.get('emitter')!).every((e) => e === -1)).toBe(true);
  });

  it('rejects bad options with messages that say what was received', () => {
    expect(() => simulateLocalizations({ dim: 4 as 2 })).toThrow(/dim must be 2 or 3; received 4/);
    expect(() => simulateLocalizations({ frames: 0 })).toThrow(UsageError);
    expect(() => simulateLocalizations({ locs: -5 })).toThrow(/locs must be a non-negative integer; received -5/);
    expect(() => simulateLocalizations({ spuriousFraction: 2 })).toThrow(/spuriousFraction/);
    expect(() => simulateLocalizations({ meanOnFrames: 0.5 })).toThrow(/meanOnFrames/);
    expect(() => simulateLocalizations({ fieldNm: -1 })).toThrow(/fieldNm/);
    expect(() => simulateLocalizations({ seed: -1 })).toThrow(/seed/);
    expect(() => simulateLocalizations({ frames: 100, jumps: [200] })).toThrow(/jumps\[0\]/);
  });

  // Speed is measured by `npm run bench`, never asserted in tests.
  it('simulates a million localizations, exactly as many as asked', () => {
    const { table } = simulateLocalizations({ locs: 1_000_000 });
    expect(table.length).toBe(1_000_000);
  });
});
