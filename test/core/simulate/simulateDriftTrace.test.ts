import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import { createRandom } from '../../../src/core/simulate/random.js';
import { simulateDriftTrace } from '../../../src/core/simulate/simulateDriftTrace.js';

/** The smooth part's realised peak lies in [0.6, 1] × the amplitude (by construction). */
const MIN_PEAK_FRACTION = 0.6;
/** Low-frequency drift: the largest frame-to-frame change, relative to the amplitude, over `frames`. */
const SMOOTHNESS_PER_FRAME = 50;

function peak(a: Float64Array): number {
  return a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

describe('simulateDriftTrace', () => {
  it('samples every frame, starts at exactly 0, peaks at the amplitude, and is smooth', () => {
    const frames = 5000;
    const amplitudeNm = 300;
    const amplitudeZNm = 80;
    const { trace } = simulateDriftTrace(createRandom(3), { frames, dim: 3, amplitudeNm, amplitudeZNm });
    expect(Array.from(trace.t.subarray(0, 3))).toEqual([0, 1, 2]);
    expect(trace.t[frames - 1]).toBe(frames - 1);
    for (const [axis, amp] of [
      ['x', amplitudeNm],
      ['y', amplitudeNm],
      ['z', amplitudeZNm],
    ] as const) {
      const a = trace[axis];
      expect(a.length).toBe(frames);
      expect(a[0], axis).toBe(0);
      expect(peak(a), axis).toBeGreaterThanOrEqual(MIN_PEAK_FRACTION * amp - 1e-9);
      expect(peak(a), axis).toBeLessThanOrEqual(amp + 1e-9);
      let maxStep = 0;
      for (let i = 1; i < frames; i++) maxStep = Math.max(maxStep, Math.abs(a[i] - a[i - 1]));
      expect(maxStep, axis).toBeLessThan((SMOOTHNESS_PER_FRAME * amp) / frames);
    }
  });

  it('keeps z at 0 in 2D and gives zero drift for zero amplitude', () => {
    const { trace } = simulateDriftTrace(createRandom(4), { frames: 100, dim: 2, amplitudeNm: 0 });
    expect(peak(trace.x) + peak(trace.y) + peak(trace.z)).toBe(0);
    const { trace: t2 } = simulateDriftTrace(createRandom(4), { frames: 100 });
    expect(peak(t2.z)).toBe(0);
    expect(peak(t2.x)).toBeGreaterThan(0);
  });

  it('adds explicit jumps as exact steps from their frame on', () => {
    const frames = 1000;
    const base = simulateDriftTrace(createRandom(5), { frames, dim: 3 }).trace;
    const jumps = [
      { frame: 300, xNm: 150, yNm: -40, zNm: 25 },
      { frame: 700, xNm: -60 },
    ];
    const { trace, jumps: resolved } = simulateDriftTrace(createRandom(5), { frames, dim: 3, jumps });
    expect(resolved).toEqual([
      { frame: 300, xNm: 150, yNm: -40, zNm: 25 },
      { frame: 700, xNm: -60, yNm: 0, zNm: 0 },
    ]);
    for (const i of [0, 299, 300, 699, 700, 999]) {
      const dx = (i >= 300 ? 150 : 0) + (i >= 700 ? -60 : 0);
      const dy = i >= 300 ? -40 : 0;
      const dz = i >= 300 ? 25 : 0;
      expect(trace.x[i] - base.x[i], `x at ${i}`).toBeCloseTo(dx, 9);
      expect(trace.y[i] - base.y[i], `y at ${i}`).toBeCloseTo(dy, 9);
      expect(trace.z[i] - base.z[i], `z at ${i}`).toBeCloseTo(dz, 9);
    }
  });

  it('draws jumps given as bare frames with the requested lateral size', () => {
    const { trace, jumps } = simulateDriftTrace(createRandom(6), { frames: 400, jumps: [200], jumpSizeNm: 250 });
    expect(jumps).toHaveLength(1);
    expect(Math.hypot(jumps[0].xNm, jumps[0].yNm)).toBeCloseTo(250, 9);
    expect(jumps[0].zNm).toBe(0);
    // The step dominates the smooth change over one frame.
    expect(Math.hypot(trace.x[200] - trace.x[199], trace.y[200] - trace.y[199])).toBeGreaterThan(240);
  });

  it('rejects jumps it cannot honour', () => {
    const rng = createRandom(7);
    expect(() => simulateDriftTrace(rng, { frames: 100, jumps: [0] })).toThrow(/truth\[0\] = 0/);
    expect(() => simulateDriftTrace(rng, { frames: 100, jumps: [100] })).toThrow(UsageError);
    expect(() => simulateDriftTrace(rng, { frames: 100, jumps: [12.5] })).toThrow(/integer in \[1, 99\]/);
    expect(() => simulateDriftTrace(rng, { frames: 100, jumps: [{ frame: 10, zNm: 5 }] })).toThrow(/2D/);
    expect(() => simulateDriftTrace(rng, { frames: 100, jumps: [{ frame: 10, xNm: NaN }] })).toThrow(/finite/);
    expect(() => simulateDriftTrace(rng, { frames: 0 })).toThrow(/frames must be a positive integer/);
    expect(() => simulateDriftTrace(rng, { frames: 10, amplitudeNm: -1 })).toThrow(/driftAmplitudeNm/);
  });
});
