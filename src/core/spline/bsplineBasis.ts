/**
 * The k+1 B-splines of degree k that are non-zero on one knot interval, by the stable
 * recurrence of de Boor and Cox (FITPACK's `fpbspl`).
 *
 * Indexing is 1-based, as in FITPACK, so that the fitting code can be checked line by line
 * against the published algorithm (P. Dierckx, "Curve and Surface Fitting with Splines",
 * Oxford University Press, 1993): `t[1..n]` are the knots (`t[0]` unused) and `l` is the
 * interval index with t[l] <= x < t[l+1], k <= l <= n-k. On return `h[1..k+1]` hold the values
 * of the B-splines N(l-k), …, N(l) at x (`h[0]` unused).
 *
 * Where knots coincide the corresponding weight is taken as zero (SciPy's variant of fpbspl),
 * so repeated boundary knots never divide by zero.
 */

/** Largest degree FITPACK supports; scratch arrays are sized for it. */
export const MAX_SPLINE_DEGREE = 5;

export function bsplineBasis(t: Float64Array, k: number, x: number, l: number, h: Float64Array, scratch: Float64Array): void {
  h[1] = 1;
  for (let j = 1; j <= k; j++) {
    for (let i = 1; i <= j; i++) scratch[i] = h[i];
    h[1] = 0;
    for (let i = 1; i <= j; i++) {
      const li = l + i;
      const lj = li - j;
      if (t[li] !== t[lj]) {
        const f = scratch[i] / (t[li] - t[lj]);
        h[i] = h[i] + f * (t[li] - x);
        h[i + 1] = f * (x - t[lj]);
      } else {
        h[i + 1] = 0;
      }
    }
  }
}
