/**
 * Evaluate a B-spline (or one of its derivatives) at arbitrary points, with FITPACK's
 * `splev`/`splder` semantics: outside [t[k], t[n-k-1]] the end polynomial pieces are continued
 * (SciPy's `ext=0`, "extrapolate"). Points need not be sorted.
 */
import { UsageError } from '../errors.js';
import { bsplineBasis, MAX_SPLINE_DEGREE } from './bsplineBasis.js';
import type { BSpline } from './fitSmoothingSpline.js';

/**
 * Values of `spline` at `t`, or of its `derivativeOrder`-th derivative (0 = the values).
 * Writes into `out` when given (it must have t.length elements) and returns it.
 */
export function evaluateSpline(spline: BSpline, t: ArrayLike<number>, out?: Float64Array, derivativeOrder = 0): Float64Array {
  const { knots, coefficients, degree: k } = spline;
  const m = t.length;
  const result = out ?? new Float64Array(m);
  if (result.length !== m) {
    throw new UsageError(
      `evaluateSpline: output array has ${result.length} elements but ${m} points were given; ` + 'pass an output of the same length as the points, or none',
    );
  }
  if (!Number.isInteger(derivativeOrder) || derivativeOrder < 0) {
    throw new UsageError(`evaluateSpline: derivative order must be a non-negative integer, received ${derivativeOrder}`);
  }
  const n = knots.length;
  const k1 = k + 1;
  const nk1 = n - k1;
  if (!(Number.isInteger(k) && k >= 0 && k <= MAX_SPLINE_DEGREE) || nk1 < 1 || coefficients.length < nk1) {
    throw new UsageError(
      `evaluateSpline: inconsistent spline (degree ${k}, ${n} knots, ${coefficients.length} ` +
        `coefficients); expected 0 <= degree <= ${MAX_SPLINE_DEGREE}, at least ${2 * k1} knots and ` +
        `knots - degree - 1 coefficients`,
    );
  }
  if (derivativeOrder > k) {
    result.fill(0);
    return result;
  }

  // 1-based copies, as in FITPACK (see bsplineBasis.ts).
  const tt = new Float64Array(n + 1);
  tt.set(knots, 1);
  // Derivative coefficients by de Boor's recurrence (FITPACK splder): after nu steps wrk[i]
  // belongs to the degree-(k-nu) B-spline that starts at knot t[i+nu].
  const wrk = new Float64Array(nk1 + 1);
  for (let i = 1; i <= nk1; i++) wrk[i] = coefficients[i - 1];
  let kk = k;
  let nk2 = nk1;
  let lStart = 1;
  for (let j = 1; j <= derivativeOrder; j++) {
    nk2 -= 1;
    let l1 = lStart;
    for (let i = 1; i <= nk2; i++) {
      l1 += 1;
      const fac = tt[l1 + kk] - tt[l1];
      if (fac > 0) wrk[i] = (kk * (wrk[i + 1] - wrk[i])) / fac;
    }
    lStart += 1;
    kk -= 1;
  }

  const h = new Float64Array(MAX_SPLINE_DEGREE + 3);
  const scratch = new Float64Array(MAX_SPLINE_DEGREE + 3);
  const terms = k1 - derivativeOrder;
  const k3 = k1 + 1;
  let l = k1;
  let l1 = l + 1;
  for (let i = 0; i < m; i++) {
    const arg = t[i];
    // Interval search t[l] <= arg < t[l+1], k1 <= l <= nk1, moving from the previous interval.
    while (!(arg >= tt[l] || l1 === k3)) {
      l1 = l;
      l -= 1;
    }
    while (!(arg < tt[l1] || l === nk1)) {
      l = l1;
      l1 = l + 1;
    }
    bsplineBasis(tt, kk, arg, l, h, scratch);
    let sp = 0;
    let ll = l - k1;
    for (let j = 1; j <= terms; j++) {
      ll += 1;
      sp += wrk[ll] * h[j];
    }
    result[i] = sp;
  }
  return result;
}
