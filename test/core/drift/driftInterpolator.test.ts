import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDriftInterpolator, DRIFT_INTERPOLATION_DEFAULTS, sampleDriftPerFrame } from '../../../src/core/drift/driftInterpolator.js';
import { InputError, InsufficientDataError, UsageError } from '../../../src/core/errors.js';
import type { DriftTrace, Extrapolation } from '../../../src/core/types.js';
import { expectClose } from '../../helpers/expectClose.js';
import { fixturesDir } from '../../helpers/fixtures.js';

/** Agreement with SciPy (the spline itself is tested in test/core/spline). */
const RTOL = 1e-9;
/** Absolute floor in nm for drift values of order 1000 nm. */
const ATOL_NM = 1e-9 * 1000;

interface SplineCase {
  name: string;
  x: number[];
  y: number[];
  grid: number[];
  values: number[];
  outside: number[];
  outsideValues: number[];
  endDerivative: number[];
}
const seedCases = (JSON.parse(readFileSync(join(fixturesDir, 'spline', 'seed.json'), 'utf8')) as { cases: SplineCase[] }).cases;
const byName = (name: string): SplineCase => {
  const c = seedCases.find((s) => s.name === name);
  if (!c) throw new Error(`fixture case '${name}' is missing from seed.json`);
  return c;
};
/** The original's example drift (copied into the fixture), with the default s = m, k = 3. */
const seedX = byName('seed x k=3 s=None');
const seedY = byName('seed y k=3 s=None');
const seedTrace: DriftTrace = {
  t: Float64Array.from(seedX.x),
  x: Float64Array.from(seedX.y),
  y: Float64Array.from(seedY.y),
  z: new Float64Array(seedX.x.length),
};

function trace(t: number[], f: (t: number) => [number, number, number]): DriftTrace {
  const rows = t.map(f);
  return {
    t: Float64Array.from(t),
    x: Float64Array.from(rows, (r) => r[0]),
    y: Float64Array.from(rows, (r) => r[1]),
    z: Float64Array.from(rows, (r) => r[2]),
  };
}

/** Expected continuation of one axis outside [first, last] from SciPy's end values and slopes. */
function expectedOutside(c: SplineCase, mode: Extrapolation): number[] {
  const first = c.x[0];
  const last = c.x[c.x.length - 1];
  const vFirst = c.values[0];
  const vLast = c.values[c.values.length - 1];
  const [sFirst, sLast] = c.endDerivative;
  return c.outside.map((t, i) => {
    if (mode === 'spline') return c.outsideValues[i];
    if (t < first) return mode === 'linear' ? vFirst + sFirst * (t - first) : vFirst;
    return mode === 'linear' ? vLast + sLast * (t - last) : vLast;
  });
}

describe('createDriftInterpolator on the seed drift', () => {
  it('inside the samples equals SciPy UnivariateSpline(k=3, s=None) per axis; z stays exactly 0', () => {
    const interp = createDriftInterpolator([seedTrace]);
    const d = interp.evaluate(seedX.grid);
    expectClose(d.t, seedX.grid, { rtol: 0, atol: 0 }, 't');
    expectClose(d.x, seedX.values, { rtol: RTOL, atol: ATOL_NM }, 'x');
    expectClose(d.y, seedY.values, { rtol: RTOL, atol: ATOL_NM }, 'y');
    expect(d.z.every((v) => Object.is(v, 0))).toBe(true);
  });

  for (const mode of ['linear', 'spline', 'constant'] as const) {
    it(`extrapolates '${mode}' beyond the samples`, () => {
      const interp = createDriftInterpolator([seedTrace], { extrapolation: mode });
      expect(interp.extrapolation).toBe(mode);
      const d = interp.evaluate(seedX.outside);
      expectClose(d.x, expectedOutside(seedX, mode), { rtol: RTOL, atol: ATOL_NM }, `${mode} x`);
      expectClose(d.y, expectedOutside(seedY, mode), { rtol: RTOL, atol: ATOL_NM }, `${mode} y`);
      expect(d.z.every((v) => Object.is(v, 0))).toBe(true);
    });
  }

  it('uses the documented defaults (k = 3, s = m, linear)', () => {
    const a = createDriftInterpolator([seedTrace]);
    const b = createDriftInterpolator([seedTrace], { degree: 3, smoothing: 30, extrapolation: 'linear' });
    expect(a.extrapolation).toBe(DRIFT_INTERPOLATION_DEFAULTS.extrapolation);
    const probe = [-5000, 0, 531, 7000.5, 29530, 40000];
    expectClose(a.evaluate(probe).x, b.evaluate(probe).x, { rtol: 0, atol: 0 });
  });

  it('linear extrapolation is continuous at the ends and differs from the end polynomial', () => {
    const lin = createDriftInterpolator([seedTrace], { extrapolation: 'linear' });
    const spl = createDriftInterpolator([seedTrace], { extrapolation: 'spline' });
    const first = seedX.x[0];
    const last = seedX.x[seedX.x.length - 1];
    const eps = 1e-6;
    const atEnds = [first - eps, first, last, last + eps];
    expectClose(lin.evaluate(atEnds).x, spl.evaluate(atEnds).x, { rtol: 0, atol: 1e-6 });
    const far = lin.evaluate([first - 20000]).x[0] - spl.evaluate([first - 20000]).x[0];
    expect(Math.abs(far)).toBeGreaterThan(1);
  });

  it('reports sources and the overall range', () => {
    const later = trace([5000, 40000, 60000], (t) => [t / 1000, 0, 0]);
    const interp = createDriftInterpolator([seedTrace, later]);
    expect(interp.sources).toHaveLength(2);
    expect(interp.sources[0]).toBe(seedTrace);
    expect(interp.sources[1]).toBe(later);
    expect(interp.range).toEqual([531, 60000]);
  });
});

describe('createDriftInterpolator sums traces', () => {
  const a = trace([0, 100, 200, 300, 400, 500, 600, 700], (t) => [Math.sin(t / 150) * 40 + 0.02 * t, -0.1 * t + 3 * Math.cos(t / 90), (t / 100) ** 2]);
  // A second stage over a shorter range: its own extrapolation applies outside [150, 450].
  const b = trace([150, 250, 350, 450], (t) => [0.05 * t - 3, Math.sqrt(t), 0]);
  const probe = [-200, 0, 120, 150, 233.3, 449, 450, 451, 600, 700, 1000];

  for (const mode of ['linear', 'spline', 'constant'] as const) {
    it(`sum of two traces = sum of two single interpolators ('${mode}')`, () => {
      const opts = { extrapolation: mode, smoothing: 0.5 };
      const both = createDriftInterpolator([a, b], opts).evaluate(probe);
      const da = createDriftInterpolator([a], opts).evaluate(probe);
      const db = createDriftInterpolator([b], opts).evaluate(probe);
      for (const axis of ['x', 'y', 'z'] as const) {
        const sum = da[axis].map((v, i) => v + db[axis][i]);
        expectClose(both[axis], sum, { rtol: 1e-14, atol: 1e-12 }, `${mode} ${axis}`);
      }
    });
  }

  it("a trace's constant extrapolation holds its own end values outside its own range", () => {
    const interp = createDriftInterpolator([b], { extrapolation: 'constant', smoothing: 0 });
    const db = interp.evaluate([0, 150, 450, 900]);
    const first = 0.05 * 150 - 3;
    const last = 0.05 * 450 - 3;
    expectClose(db.x, [first, first, last, last], { rtol: 1e-12, atol: 1e-12 });
  });
});

describe('createDriftInterpolator with few samples', () => {
  it('lowers the degree for a 2-sample trace, warns through the reporter, and is linear', () => {
    const warnings: string[] = [];
    const two = trace([1250, 3750], (t) => [t / 125, -t / 250, 0]);
    const interp = createDriftInterpolator([two], { reporter: { warn: (w) => warnings.push(w) } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/drift trace: only 2 samples for a degree-3 spline.*degree 1/);
    const d = interp.evaluate([0, 1250, 2500, 5000]);
    expectClose(d.x, [0, 10, 20, 40], { rtol: 1e-12, atol: 1e-12 });
    expectClose(d.y, [0, -5, -10, -20], { rtol: 1e-12, atol: 1e-12 });
  });

  it('a single-sample trace is a constant', () => {
    const interp = createDriftInterpolator([trace([100], () => [4, -2, 0])], { reporter: {} });
    const d = interp.evaluate([-1e6, 100, 1e6]);
    expectClose(d.x, [4, 4, 4]);
    expectClose(d.y, [-2, -2, -2]);
    expect(interp.range).toEqual([100, 100]);
  });

  it("a break that leaves one sample alone is dropped (smoothing 'auto' needs two per piece)", () => {
    // Two breaks around the sample at 550 (as the fine stage may find on poor data).
    const t = [0, 100, 200, 300, 400, 550, 700, 800, 900, 1000];
    const jumped = trace(t, (f) => [f < 500 ? 0 : 30, 0, 0]);
    jumped.breaks = Float64Array.of(500, 600);
    const d = createDriftInterpolator([jumped], { smoothing: 'auto', reporter: {} }).evaluate([100, 900]);
    expectClose(d.x, [0, 30], { atol: 1e-6 });
  });
});

describe('createDriftInterpolator errors', () => {
  it('rejects no traces, ragged columns, unsorted times and a bad mode', () => {
    expect(() => createDriftInterpolator([])).toThrow(InsufficientDataError);
    const ragged: DriftTrace = { ...seedTrace, y: seedTrace.y.subarray(1) };
    expect(() => createDriftInterpolator([ragged])).toThrow(/column y has 29 samples but t has 30/);
    const unsorted = trace([0, 10, 5, 20], (t) => [t, t, 0]);
    expect(() => createDriftInterpolator([seedTrace, unsorted])).toThrow(InputError);
    expect(() => createDriftInterpolator([seedTrace, unsorted])).toThrow(/drift trace 2 of 2, axis x: .*strictly increasing/);
    const empty = trace([], () => [0, 0, 0]);
    expect(() => createDriftInterpolator([empty])).toThrow(InsufficientDataError);
    expect(() => createDriftInterpolator([seedTrace], { extrapolation: 'quadratic' as Extrapolation })).toThrow(UsageError);
    expect(() => createDriftInterpolator([seedTrace], { degree: 7 })).toThrow(UsageError);
  });
});

describe('sampleDriftPerFrame', () => {
  it('gives one row per integer frame, inclusive, equal to evaluate at those frames', () => {
    const interp = createDriftInterpolator([seedTrace]);
    const rows = sampleDriftPerFrame(interp, -3, 40);
    expect(rows.t.length).toBe(44);
    expect(rows.t[0]).toBe(-3);
    expect(rows.t[43]).toBe(40);
    const direct = interp.evaluate(Array.from({ length: 44 }, (_, i) => i - 3));
    expectClose(rows.x, direct.x, { rtol: 0, atol: 0 });
    expectClose(rows.y, direct.y, { rtol: 0, atol: 0 });
    expect(sampleDriftPerFrame(interp, 7, 7).t).toEqual(Float64Array.of(7));
  });
  it('rejects non-integer or reversed frame ranges', () => {
    const interp = createDriftInterpolator([seedTrace]);
    expect(() => sampleDriftPerFrame(interp, 0.5, 10)).toThrow(UsageError);
    expect(() => sampleDriftPerFrame(interp, 10, 9)).toThrow(/last frame \(9\) is before first frame \(10\)/);
  });
});
