import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, InsufficientDataError, UsageError } from '../../../src/core/errors.js';
import { evaluateSpline } from '../../../src/core/spline/evaluateSpline.js';
import { fitSmoothingSpline } from '../../../src/core/spline/fitSmoothingSpline.js';
import { expectClose } from '../../helpers/expectClose.js';
import { fixturesDir } from '../../helpers/fixtures.js';

/** Agreement with SciPy's FITPACK: relative, plus an absolute floor scaled by the data. */
const RTOL = 1e-9;
const ATOL_PER_MAX_ABS_Y = 1e-9;
/** fp is a sum of squares that may nearly cancel (s = 0): absolute floor per Σy². */
const FP_ATOL_PER_SUM_Y2 = 1e-18;
/** Interpolation (s = 0) reproduces the samples to rounding. */
const INTERP_RTOL = 1e-10;

interface SplineCase {
  name: string;
  k: number;
  s: number;
  x: number[];
  y: number[];
  w: number[] | null;
  knots: number[];
  coefficients: number[];
  fp: number;
  kind: string;
  grid: number[];
  values: number[];
  derivativeGrid: number[];
  derivative: number[];
  outside: number[];
  outsideValues: number[];
  endDerivative: number[];
}

function load(name: string): SplineCase[] {
  const json = JSON.parse(readFileSync(join(fixturesDir, 'spline', name), 'utf8')) as {
    cases: SplineCase[];
  };
  return json.cases;
}

const kindStatus: Record<string, string> = {
  UnivariateSpline: 'smoothing',
  InterpolatedUnivariateSpline: 'interpolating',
  LSQUnivariateSpline: 'polynomial',
};

function checkCase(c: SplineCase): void {
  const x = Float64Array.from(c.x);
  const y = Float64Array.from(c.y);
  const spline = fitSmoothingSpline(x, y, {
    degree: c.k,
    smoothing: c.s,
    weights: c.w ? Float64Array.from(c.w) : undefined,
  });
  const maxAbsY = Math.max(...c.y.map(Math.abs));
  const atol = ATOL_PER_MAX_ABS_Y * maxAbsY;
  const span = c.x[c.x.length - 1] - c.x[0];
  expect(spline.degree).toBe(c.k);
  expect(spline.status).toBe(kindStatus[c.kind]);
  expect(spline.warning).toBeUndefined();
  expectClose(spline.knots, c.knots, { rtol: RTOL, atol: RTOL * span }, `${c.name}: knots`);
  expectClose(spline.coefficients, c.coefficients, { rtol: RTOL, atol }, `${c.name}: coefficients`);
  const sumY2 = c.y.reduce((acc, v) => acc + v * v, 0);
  expectClose([spline.residual], [c.fp], { rtol: RTOL, atol: FP_ATOL_PER_SUM_Y2 * sumY2 }, `${c.name}: fp`);
  expectClose(evaluateSpline(spline, c.grid), c.values, { rtol: RTOL, atol }, `${c.name}: values`);
  expectClose(evaluateSpline(spline, c.outside), c.outsideValues, { rtol: RTOL, atol }, `${c.name}: end polynomials outside`);
  const slopeAtol = atol / span;
  expectClose(evaluateSpline(spline, c.derivativeGrid, undefined, 1), c.derivative, { rtol: RTOL, atol: slopeAtol }, `${c.name}: derivative`);
  expectClose(evaluateSpline(spline, [c.x[0], c.x[c.x.length - 1]], undefined, 1), c.endDerivative, { rtol: RTOL, atol: slopeAtol }, `${c.name}: end slopes`);
}

describe('fitSmoothingSpline matches scipy.interpolate.UnivariateSpline', () => {
  describe('seed drift samples (the original example drift.npz)', () => {
    for (const c of load('seed.json')) it(c.name, () => checkCase(c));
  });
  describe('noisy random data', () => {
    for (const c of load('random.json')) it(c.name, () => checkCase(c));
  });
});

describe('fitSmoothingSpline properties', () => {
  it('interpolates the samples when s = 0, for every degree', () => {
    const x = Float64Array.from({ length: 12 }, (_, i) => i * i * 0.5 + i);
    const y = x.map((v) => Math.cos(v / 7) * 30 + v);
    for (let k = 1; k <= 5; k++) {
      const spline = fitSmoothingSpline(x, y, { degree: k, smoothing: 0 });
      expect(spline.status).toBe('interpolating');
      expectClose(evaluateSpline(spline, x), y, { rtol: INTERP_RTOL, atol: INTERP_RTOL * 60 }, `k=${k}`);
    }
  });

  it('reproduces a polynomial of its own degree exactly whatever s', () => {
    const x = Float64Array.from({ length: 9 }, (_, i) => i * 3 - 4);
    const y = x.map((v) => 2 - v + 0.5 * v * v - 0.125 * v * v * v);
    for (const s of [0, 1, -1]) {
      const spline = fitSmoothingSpline(x, y, { degree: 3, smoothing: s });
      const probe = [-10, -4, 0.3, 7.7, 20, 28];
      expectClose(
        evaluateSpline(spline, probe),
        probe.map((v) => 2 - v + 0.5 * v * v - 0.125 * v * v * v),
        { rtol: 1e-10, atol: 1e-9 },
        `s=${s}`,
      );
    }
  });

  it('a straight line through two points for a linear spline; derivative is its slope', () => {
    const spline = fitSmoothingSpline(Float64Array.of(10, 20), Float64Array.of(1, 4), {
      degree: 1,
      smoothing: 0,
    });
    expectClose(evaluateSpline(spline, [0, 10, 15, 20, 30]), [-2, 1, 2.5, 4, 7]);
    expectClose(evaluateSpline(spline, [0, 15, 30], undefined, 1), [0.3, 0.3, 0.3]);
    expectClose(evaluateSpline(spline, [0, 15], undefined, 2), [0, 0]);
  });

  it('lowers the degree when there are too few samples, with a warning', () => {
    const two = fitSmoothingSpline(Float64Array.of(0, 10), Float64Array.of(5, 25), {
      degree: 3,
      smoothing: -1,
    });
    expect(two.degree).toBe(1);
    expect(two.warning).toMatch(/only 2 samples for a degree-3 spline.*degree 1/);
    expectClose(evaluateSpline(two, [-10, 0, 5, 10, 20]), [-15, 5, 15, 25, 45]);

    const three = fitSmoothingSpline(Float64Array.of(0, 1, 2), Float64Array.of(0, 1, 4), {
      degree: 3,
      smoothing: 0,
    });
    expect(three.degree).toBe(2);
    expectClose(evaluateSpline(three, [-1, 0.5, 3]), [1, 0.25, 9], { rtol: 1e-12, atol: 1e-12 });

    const one = fitSmoothingSpline(Float64Array.of(7), Float64Array.of(-3), { degree: 3, smoothing: -1 });
    expect(one.degree).toBe(0);
    expect(one.warning).toMatch(/constant/);
    expectClose(evaluateSpline(one, [-100, 7, 100]), [-3, -3, -3]);
    expectClose(evaluateSpline(one, [-100, 7], undefined, 1), [0, 0]);
  });

  it('uses s = m for a negative smoothing factor', () => {
    const x = Float64Array.from({ length: 20 }, (_, i) => i);
    const y = x.map((v) => Math.sin(v) * 3);
    const a = fitSmoothingSpline(x, y, { degree: 3, smoothing: -1 });
    const b = fitSmoothingSpline(x, y, { degree: 3, smoothing: 20 });
    expect(a.smoothing).toBe(20);
    expectClose(a.coefficients, b.coefficients, { rtol: 0, atol: 0 });
  });
});

describe('fitSmoothingSpline input errors', () => {
  const x = Float64Array.of(0, 1, 2, 3, 4);
  const y = Float64Array.of(0, 1, 0, 1, 0);
  it('rejects x that is not strictly increasing', () => {
    expect(() => fitSmoothingSpline(Float64Array.of(0, 1, 1, 3, 4), y, { degree: 3, smoothing: 0 })).toThrow(InputError);
    expect(() => fitSmoothingSpline(Float64Array.of(0, 2, 1, 3, 4), y, { degree: 3, smoothing: 0 })).toThrow(/strictly increasing.*x\[1\] = 2 and x\[2\] = 1/);
  });
  it('rejects unequal lengths, non-finite samples and bad weights', () => {
    expect(() => fitSmoothingSpline(x, y.subarray(1), { degree: 3, smoothing: 0 })).toThrow(/equal lengths/);
    expect(() => fitSmoothingSpline(x, Float64Array.of(0, NaN, 0, 1, 0), { degree: 3, smoothing: 0 })).toThrow(/sample 1 is not finite/);
    expect(() => fitSmoothingSpline(x, y, { degree: 3, smoothing: 0, weights: Float64Array.of(1, 1, 0, 1, 1) })).toThrow(/weight 2 is 0/);
    expect(() => fitSmoothingSpline(x, y, { degree: 3, smoothing: 0, weights: Float64Array.of(1) })).toThrow(InputError);
  });
  it('rejects degrees outside 1..5 and a NaN smoothing factor', () => {
    for (const degree of [0, 6, 2.5, NaN]) {
      expect(() => fitSmoothingSpline(x, y, { degree, smoothing: 0 })).toThrow(UsageError);
    }
    expect(() => fitSmoothingSpline(x, y, { degree: 3, smoothing: NaN })).toThrow(/smoothing factor/);
  });
  it('rejects an empty series', () => {
    expect(() => fitSmoothingSpline(new Float64Array(0), new Float64Array(0), { degree: 3, smoothing: 0 })).toThrow(InsufficientDataError);
  });
});
