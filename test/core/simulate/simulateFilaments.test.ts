import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import { createRandom } from '../../../src/core/simulate/random.js';
import { simulateFilaments } from '../../../src/core/simulate/simulateFilaments.js';

/** Tangent correlation at one persistence length: exp(−1/2) for the angular diffusion used. */
const EXPECTED_COS_AT_LP = Math.exp(-0.5);
/** Sampling error of the mean cosine over the chains used. */
const COS_TOLERANCE = 0.04;

describe('simulateFilaments', () => {
  it('stays inside the bounds and z range, with steps no longer than stepNm', () => {
    const bounds = [1000, 3000, 500, 2500] as const;
    const stepNm = 10;
    const f = simulateFilaments(createRandom(1), {
      count: 20,
      boundsNm: bounds,
      zHalfRangeNm: 300,
      persistenceLengthNm: 1000,
      meanLengthNm: 4000,
      stepNm,
    });
    expect(f.start[0]).toBe(0);
    expect(f.start[20]).toBe(f.x.length);
    expect(f.segments.length).toBe(f.x.length - 20);
    let maxStep = 0;
    let outside = 0;
    for (let k = 0; k < f.x.length; k++) {
      const inside = f.x[k] >= bounds[0] && f.x[k] <= bounds[1] && f.y[k] >= bounds[2] && f.y[k] <= bounds[3];
      if (!inside || Math.abs(f.z[k]) > 300) outside++;
    }
    expect(outside, 'points outside the bounds or z range').toBe(0);
    for (const k of f.segments) {
      maxStep = Math.max(maxStep, Math.hypot(f.x[k + 1] - f.x[k], f.y[k + 1] - f.y[k], f.z[k + 1] - f.z[k]));
    }
    expect(maxStep).toBeLessThanOrEqual(stepNm + 1e-9);
    // Segments never join two chains.
    const firsts = new Set(Array.from(f.start.subarray(1)));
    expect(Array.from(f.segments).filter((k) => firsts.has(k + 1))).toEqual([]);
  });

  it('has the wormlike tangent correlation exp(−s / 2Lp) in the plane', () => {
    const stepNm = 10;
    const persistenceLengthNm = 500;
    const lag = persistenceLengthNm / stepNm;
    // A huge box so walls never reflect.
    const f = simulateFilaments(createRandom(2), {
      count: 400,
      boundsNm: [-1e7, 1e7, -1e7, 1e7],
      zHalfRangeNm: 0,
      persistenceLengthNm,
      meanLengthNm: 2000,
      stepNm,
    });
    let sum = 0;
    let n = 0;
    for (let i = 0; i < 400; i++) {
      const k = f.start[i];
      if (f.start[i + 1] - k < lag + 2) continue;
      const ax = f.x[k + 1] - f.x[k];
      const ay = f.y[k + 1] - f.y[k];
      const bx = f.x[k + lag + 1] - f.x[k + lag];
      const by = f.y[k + lag + 1] - f.y[k + lag];
      sum += (ax * bx + ay * by) / (Math.hypot(ax, ay) * Math.hypot(bx, by));
      n++;
    }
    expect(n).toBeGreaterThan(300);
    expect(Math.abs(sum / n - EXPECTED_COS_AT_LP)).toBeLessThan(COS_TOLERANCE);
  });

  it('rejects empty regions and non-positive lengths', () => {
    const base = {
      count: 1,
      boundsNm: [0, 100, 0, 100] as const,
      zHalfRangeNm: 0,
      persistenceLengthNm: 1000,
      meanLengthNm: 50,
      stepNm: 5,
    };
    expect(() => simulateFilaments(createRandom(1), { ...base, boundsNm: [100, 0, 0, 100] })).toThrow(/empty/);
    expect(() => simulateFilaments(createRandom(1), { ...base, count: 0 })).toThrow(UsageError);
    expect(() => simulateFilaments(createRandom(1), { ...base, persistenceLengthNm: 0 })).toThrow(/persistenceLengthNm/);
  });
});
