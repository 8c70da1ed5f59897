/**
 * Smoothing spline with the semantics of FITPACK's `curfit` as SciPy's
 * `UnivariateSpline(x, y, w, k=k, s=s)` calls it: the smoothest spline of degree k whose
 * weighted sum of squared residuals  fp = Σ (w_i (y_i − s(x_i)))²  is at most s.
 *
 *   - s = 0 interpolates (interior knots at the data points, at midpoints for even k; for
 *     k = 3 this is the not-a-knot cubic spline);
 *   - s large enough gives the least-squares polynomial of degree k;
 *   - in between, knots are added where the residuals are largest until the least-squares
 *     spline on those knots has fp <= s, then a smoothing parameter p is found by rational
 *     interpolation so that fp ≈ s (relative tolerance 0.001, at most 20 iterations).
 *
 * Algorithm: P. Dierckx, "An algorithm for smoothing, differentiation and integration of
 * experimental data using spline functions", J. Comput. Appl. Math. 1 (1975) 165–184,
 * doi:10.1016/0771-050X(75)90034-0; and "Curve and Surface Fitting with Splines", Oxford
 * University Press, 1993 (routines curfit, fpcurf, fpknot, fpdisc, fpgivs, fprota, fpback,
 * fprati). SciPy's knot-storage strategy is reproduced too: the first pass may hold at most
 * max(⌊m/2⌋, 2k+2) knots and, when that is not enough, the fit continues from the knots found
 * with room for the maximum m+k+1 — the knots then differ from a single unlimited pass, so this
 * matters for matching SciPy.
 *
 * The fitting code keeps FITPACK's 1-based indexing (index 0 of every work array unused) so
 * it can be checked line by line against the published routines.
 */
import { InputError, InsufficientDataError, UsageError } from '../errors.js';
import { bsplineBasis, MAX_SPLINE_DEGREE } from './bsplineBasis.js';

/** A B-spline in FITPACK's (t, c, k) form. */
export interface BSpline {
  /** All n knots, boundary knots repeated degree+1 times (SciPy's `tck[0]`). */
  knots: Float64Array;
  /** The n − degree − 1 B-spline coefficients (SciPy's `tck[1][:n-k-1]`). */
  coefficients: Float64Array;
  /** Polynomial degree, 0…5 (0 only for a single sample). */
  degree: number;
}

/** How the fit ended (FITPACK's `ier`). */
export type SplineFitStatus =
  /** fp is within 0.1 % of s (ier = 0). */
  | 'smoothing'
  /** The spline interpolates the data (s = 0, or s below what the knots allow; ier = −1). */
  | 'interpolating'
  /** The least-squares polynomial of degree k already has fp <= s (ier = −2). */
  | 'polynomial'
  /** The smoothing-parameter iteration did not converge; the spline is still usable (ier = 2, 3). */
  | 'notConverged';

export interface SmoothingSpline extends BSpline {
  /** Weighted sum of squared residuals fp (SciPy's `get_residual()`). */
  residual: number;
  /** The smoothing factor s actually used (the default m resolved). */
  smoothing: number;
  status: SplineFitStatus;
  /** Set when the degree had to be lowered or the iteration did not converge. */
  warning?: string;
}

export interface SmoothingSplineOptions {
  /** Spline degree k, 1…5. @default none (required) */
  degree: number;
  /**
   * Smoothing factor s >= 0: the fit's weighted sum of squared residuals. Negative means
   * SciPy's default s = m (number of samples); 0 interpolates. Units: (y units × weight)².
   */
  smoothing: number;
  /** Positive weights, one per sample (1/σ_i is the usual choice). @default all 1 */
  weights?: Float64Array;
}

/** curfit's relative tolerance on fp − s and its iteration limit for p (as in SciPy). */
const TOLERANCE = 0.001;
const MAX_ITERATIONS = 20;
/** Step factors of fpcurf's search for a bracket of p. */
const CON1 = 0.1;
const CON4 = 0.04;
const CON9 = 0.9;

/**
 * Fit a smoothing spline to samples (x_i, y_i), x strictly increasing. With m <= degree
 * samples the degree is lowered to m − 1 (a constant for one sample) and `warning` says so.
 */
export function fitSmoothingSpline(x: Float64Array, y: Float64Array, options: SmoothingSplineOptions): SmoothingSpline {
  const { degree, smoothing, weights } = options;
  validate(x, y, degree, smoothing, weights);
  const m = x.length;
  const s = smoothing < 0 ? m : smoothing;
  let k = degree;
  let warning: string | undefined;
  if (m <= k) {
    k = m - 1;
    warning =
      `only ${m} sample${m === 1 ? '' : 's'} for a degree-${degree} spline (needs at least ` +
      `${degree + 1}); fitted degree ${k}${k === 0 ? ' (a constant)' : ''} instead`;
  }
  if (k === 0) {
    return {
      knots: Float64Array.of(x[0], x[0]),
      coefficients: Float64Array.of(y[0]),
      degree: 0,
      residual: 0,
      smoothing: s,
      status: 'interpolating',
      warning,
    };
  }

  const w = weights ?? new Float64Array(m).fill(1);
  const work = new FitWork(x, y, w, k);
  const nmax = m + k + 1;
  // SciPy's fpcurf0 default storage, then _reset_nest + fpcurf1 when it is too small.
  let nest = s === 0 ? nmax : Math.max(Math.floor(m / 2), 2 * (k + 1));
  work.fpcurf(0, s, nest);
  if (work.ier === 1) {
    nest = nmax;
    work.fpcurf(1, s, nest);
  }

  const n = work.n;
  const knots = work.t.slice(1, n + 1);
  const coefficients = work.c.slice(1, n - k);
  let status: SplineFitStatus;
  switch (work.ier) {
    case 0:
      status = 'smoothing';
      break;
    case -1:
      status = 'interpolating';
      break;
    case -2:
      status = 'polynomial';
      break;
    default: {
      status = 'notConverged';
      const why =
        work.ier === 3
          ? `the search for the smoothing parameter reached its ${MAX_ITERATIONS}-iteration limit`
          : 'the search for the smoothing parameter stopped because fp(p) did not behave as theory predicts';
      const msg =
        `smoothing spline: ${why} (FITPACK ier=${work.ier}); the result (fp = ${work.fp}, s = ${s}) ` +
        'is usable but fp may not be close to s; a slightly different smoothing factor usually helps';
      warning = warning ? `${warning}; ${msg}` : msg;
    }
  }
  return { knots, coefficients, degree: k, residual: work.fp, smoothing: s, status, warning };
}

function validate(x: Float64Array, y: Float64Array, degree: number, smoothing: number, weights: Float64Array | undefined): void {
  if (!Number.isInteger(degree) || degree < 1 || degree > MAX_SPLINE_DEGREE) {
    throw new UsageError(`spline degree must be an integer from 1 to ${MAX_SPLINE_DEGREE}, received ${degree}`);
  }
  if (Number.isNaN(smoothing) || smoothing === Infinity) {
    throw new UsageError(`smoothing factor must be a finite number (negative = default, 0 = interpolate), received ${smoothing}`);
  }
  if (x.length !== y.length) {
    throw new InputError(`spline samples: x has ${x.length} values but y has ${y.length}; they must have equal lengths`);
  }
  if (weights && weights.length !== x.length) {
    throw new InputError(`spline weights: ${weights.length} weights for ${x.length} samples; give one weight per sample`);
  }
  if (x.length === 0) {
    throw new InsufficientDataError('spline: no samples to fit; at least one sample is needed');
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) {
      throw new InputError(`spline samples: sample ${i} is not finite (x = ${x[i]}, y = ${y[i]}); remove or repair it`);
    }
    if (i > 0 && !(x[i] > x[i - 1])) {
      throw new InputError(
        `spline samples: x must be strictly increasing, but x[${i - 1}] = ${x[i - 1]} and ` + `x[${i}] = ${x[i]}; sort the samples and merge duplicates`,
      );
    }
    if (weights && !(weights[i] > 0 && Number.isFinite(weights[i]))) {
      throw new InputError(`spline weights must be positive and finite, but weight ${i} is ${weights[i]}`);
    }
  }
}

/** Fortran's REAL → INTEGER assignment: truncation, with x86's value for out-of-range. */
function fortranInt(v: number): number {
  return Math.abs(v) < 2147483648 ? Math.trunc(v) : -2147483648;
}

/**
 * FITPACK's fpcurf with its work arrays. Arrays are sized for the largest knot count m+k+1
 * so a second call (iopt = 1) can continue from the first one's knots with more room.
 */
class FitWork {
  readonly m: number;
  readonly k: number;
  readonly k1: number;
  readonly k2: number;
  /** 1-based copies of the samples and weights. */
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly w: Float64Array;
  readonly t: Float64Array;
  readonly c: Float64Array;
  readonly fpint: Float64Array;
  readonly nrdata: Int32Array;
  readonly z: Float64Array;
  /** a(nest,k1), row-major with stride k1+1: a[i*sa + j]. */
  readonly a: Float64Array;
  /** b(nest,k2) and g(nest,k2), stride k2+1. */
  readonly b: Float64Array;
  readonly g: Float64Array;
  /** q(m,k1), stride k1+1: the B-spline values at each sample. */
  readonly q: Float64Array;
  readonly sa: number;
  readonly sb: number;
  readonly h = new Float64Array(13);
  readonly hs = new Float64Array(MAX_SPLINE_DEGREE + 3);
  /** Givens rotation result [cos, sin]. */
  readonly rot = new Float64Array(2);
  n = 0;
  ier = 0;
  fp = 0;
  nrint = 0;

  constructor(x: Float64Array, y: Float64Array, w: Float64Array, k: number) {
    const m = x.length;
    this.m = m;
    this.k = k;
    this.k1 = k + 1;
    this.k2 = k + 2;
    this.sa = this.k1 + 1;
    this.sb = this.k2 + 1;
    const cap = m + k + 2;
    this.x = new Float64Array(m + 1);
    this.y = new Float64Array(m + 1);
    this.w = new Float64Array(m + 1);
    this.x.set(x, 1);
    this.y.set(y, 1);
    this.w.set(w, 1);
    this.t = new Float64Array(cap);
    this.c = new Float64Array(cap);
    this.fpint = new Float64Array(cap);
    this.nrdata = new Int32Array(cap);
    this.z = new Float64Array(cap);
    this.a = new Float64Array(cap * this.sa);
    this.b = new Float64Array(cap * this.sb);
    this.g = new Float64Array(cap * this.sb);
    this.q = new Float64Array((m + 1) * this.sa);
  }

  /** fpgivs: rotation that zeroes `piv` against `arr[idx]` (updated); cos, sin in this.rot. */
  givens(piv: number, arr: Float64Array, idx: number): void {
    const ww = arr[idx];
    const store = Math.abs(piv);
    let dd: number;
    if (store >= ww) {
      const r = ww / piv;
      dd = store * Math.sqrt(1 + r * r);
    } else {
      const r = piv / ww;
      dd = ww * Math.sqrt(1 + r * r);
    }
    this.rot[0] = ww / dd;
    this.rot[1] = piv / dd;
    arr[idx] = dd;
  }

  /** fprota applied to (a, b) = (arrA[iA], arrB[iB]). */
  rotate(arrA: Float64Array, iA: number, arrB: Float64Array, iB: number): void {
    const cos = this.rot[0];
    const sin = this.rot[1];
    const stor1 = arrA[iA];
    const stor2 = arrB[iB];
    arrB[iB] = cos * stor2 + sin * stor1;
    arrA[iA] = cos * stor1 - sin * stor2;
  }

  /** fpback: solve the banded upper-triangular a·c = z (bandwidth bw, row stride), in place safe. */
  static back(a: Float64Array, stride: number, z: Float64Array, n: number, bw: number, c: Float64Array): void {
    const k1 = bw - 1;
    c[n] = z[n] / a[n * stride + 1];
    let i = n - 1;
    for (let j = 2; j <= n; j++) {
      let store = z[i];
      const i1 = j <= k1 ? j - 1 : k1;
      let mm = i;
      for (let l = 1; l <= i1; l++) {
        mm += 1;
        store -= c[mm] * a[i * stride + l + 1];
      }
      c[i] = store / a[i * stride + 1];
      i -= 1;
    }
  }

  /** fpdisc: jumps of the k-th derivative of the B-splines at the interior knots, into b. */
  discontinuities(n: number): void {
    const { t, b, sb, k, k1, k2, h } = this;
    const nk1 = n - k1;
    const nrint = nk1 - k;
    const fac = nrint / (t[nk1 + 1] - t[k1]);
    for (let l = k2; l <= nk1; l++) {
      const lmk = l - k1;
      for (let j = 1; j <= k1; j++) {
        const ik = j + k1;
        const lj = l + j;
        const lk = lj - k2;
        h[j] = t[l] - t[lk];
        h[ik] = t[l] - t[lj];
      }
      let lp = lmk;
      for (let j = 1; j <= k2; j++) {
        let jk = j;
        let prod = h[j];
        for (let i = 1; i <= k; i++) {
          jk += 1;
          prod = prod * h[jk] * fac;
        }
        const lk = lp + k1;
        b[lmk * sb + j] = (t[lk] - t[lp]) / prod;
        lp += 1;
      }
    }
  }

  /**
   * fpknot: add one knot at the data point in the middle of the knot interval with the
   * largest residual sum (only intervals that hold data points qualify).
   */
  addKnot(istart: number): void {
    const { x, t, fpint, nrdata } = this;
    const nrint = this.nrint;
    const k = Math.trunc((this.n - nrint - 1) / 2);
    let fpmax = 0;
    let jbegin = istart;
    let number = 0;
    let maxpt = 0;
    let maxbeg = 0;
    for (let j = 1; j <= nrint; j++) {
      const jpoint = nrdata[j];
      if (!(fpmax >= fpint[j] || jpoint === 0)) {
        fpmax = fpint[j];
        number = j;
        maxpt = jpoint;
        maxbeg = jbegin;
      }
      jbegin += jpoint + 1;
    }
    if (number === 0) {
      // No interval holds a data point (SciPy's guard in its C fpknot): count, place nothing.
      this.n += 1;
      this.nrint += 1;
      return;
    }
    const ihalf = Math.trunc(maxpt / 2) + 1;
    const nrx = maxbeg + ihalf;
    const next = number + 1;
    for (let j = next; j <= nrint; j++) {
      const jj = next + nrint - j;
      fpint[jj + 1] = fpint[jj];
      nrdata[jj + 1] = nrdata[jj];
      const jk = jj + k;
      t[jk + 1] = t[jk];
    }
    nrdata[number] = ihalf - 1;
    nrdata[next] = maxpt - ihalf;
    const am = maxpt;
    fpint[number] = (fpmax * nrdata[number]) / am;
    fpint[next] = (fpmax * nrdata[next]) / am;
    t[next + k] = x[nrx];
    this.n += 1;
    this.nrint += 1;
  }

  /** Interior knots for interpolation: at the data points (odd k) or midpoints (even k). */
  placeInterpolationKnots(): void {
    const { m, k, k1, k2, x, t } = this;
    const mk1 = m - k1;
    if (mk1 === 0) return;
    const k3 = Math.trunc(k / 2);
    let i = k2;
    let j = k3 + 2;
    const even = k3 * 2 === k;
    for (let l = 1; l <= mk1; l++) {
      t[i] = even ? (x[j] + x[j - 1]) * 0.5 : x[j];
      i += 1;
      j += 1;
    }
  }

  /** Spline value at sample `it` from the stored B-spline values, with knot interval base l0. */
  private splineAtSample(it: number, l0: number): number {
    const { c, q, sa, k1 } = this;
    let term = 0;
    for (let j = 1; j <= k1; j++) term += c[l0 + j] * q[it * sa + j];
    return term;
  }

  /**
   * fpcurf with xb = x[1], xe = x[m]. `iopt` 0 starts afresh; 1 continues from the knots of
   * the previous call (which must have ended with ier = 1, nest too small). Sets n, t, c, fp,
   * ier.
   */
  fpcurf(iopt: 0 | 1, s: number, nest: number): void {
    const { m, k, k1, k2, x, y, w, t, c, z, a, sa, q, h, fpint, nrdata } = this;
    const xb = x[1];
    const xe = x[m];
    const nmin = 2 * k1;
    const nmax = m + k1;
    const acc = TOLERANCE * s;
    let ier = this.ier;
    let n = this.n;
    let fp = 0;
    let fp0 = 0;
    let fpold = 0;
    let nplus = 0;
    let fpms = 0;
    let interpolationKnots = false;

    if (s > 0) {
      let restart = true;
      if (iopt !== 0 && n !== nmin) {
        fp0 = fpint[n];
        fpold = fpint[n - 1];
        nplus = nrdata[n];
        if (fp0 > s) restart = false;
      }
      if (restart) {
        n = nmin;
        fpold = 0;
        nplus = 0;
        nrdata[1] = m - 2;
      }
    } else {
      n = nmax;
      interpolationKnots = true;
    }

    const finish = (status: number): void => {
      this.n = n;
      this.fp = fp;
      this.ier = status;
    };
    const yi = new Float64Array(1);

    // Part 1: find the number and position of the knots.
    outer: for (;;) {
      if (interpolationKnots) {
        this.placeInterpolationKnots();
        interpolationKnots = false;
      }
      for (let iter = 1; iter <= m; iter++) {
        if (n === nmin) ier = -2;
        this.nrint = n - nmin + 1;
        const nk1 = n - k1;
        for (let j = 1, i = n; j <= k1; j++, i--) {
          t[j] = xb;
          t[i] = xe;
        }
        // Least-squares spline on these knots: the observation matrix is triangularised
        // row by row with Givens rotations; fp accumulates the residual right-hand sides.
        fp = 0;
        z.fill(0, 1, nk1 + 1);
        a.fill(0, sa, (nk1 + 1) * sa);
        let l = k1;
        for (let it = 1; it <= m; it++) {
          const xi = x[it];
          const wi = w[it];
          yi[0] = y[it] * wi;
          while (!(xi < t[l + 1] || l === nk1)) l += 1;
          bsplineBasis(t, k, xi, l, h, this.hs);
          for (let i = 1; i <= k1; i++) {
            q[it * sa + i] = h[i];
            h[i] *= wi;
          }
          let j = l - k1;
          for (let i = 1; i <= k1; i++) {
            j += 1;
            const piv = h[i];
            if (piv === 0) continue;
            this.givens(piv, a, j * sa + 1);
            this.rotate(yi, 0, z, j);
            if (i === k1) break;
            let i2 = 1;
            for (let i1 = i + 1; i1 <= k1; i1++) {
              i2 += 1;
              this.rotate(h, i1, a, j * sa + i2);
            }
          }
          fp += yi[0] * yi[0];
        }
        if (ier === -2) fp0 = fp;
        fpint[n] = fp0;
        fpint[n - 1] = fpold;
        nrdata[n] = nplus;
        FitWork.back(a, sa, z, nk1, k1, c);

        fpms = fp - s;
        if (Math.abs(fpms) < acc) return finish(ier);
        if (fpms < 0) break outer;
        if (n === nmax) return finish(-1);
        if (n === nest) return finish(1);

        // How many knots to add: one at first, then extrapolated from the last fp decrease.
        if (ier !== 0) {
          nplus = 1;
          ier = 0;
        } else {
          let npl1 = nplus * 2;
          const rn = nplus;
          if (fpold - fp > acc) npl1 = fortranInt((rn * fpms) / (fpold - fp));
          nplus = Math.min(nplus * 2, Math.max(npl1, Math.trunc(nplus / 2), 1));
        }
        fpold = fp;

        // Residual sum per knot interval; a sample on a knot counts half to each side.
        let fpart = 0;
        let i = 1;
        l = k2;
        let isNew = false;
        for (let it = 1; it <= m; it++) {
          if (x[it] >= t[l] && l <= nk1) {
            isNew = true;
            l += 1;
          }
          const r = w[it] * (this.splineAtSample(it, l - k2) - y[it]);
          const term = r * r;
          fpart += term;
          if (isNew) {
            const store = term * 0.5;
            fpint[i] = fpart - store;
            i += 1;
            fpart = store;
            isNew = false;
          }
        }
        fpint[this.nrint] = fpart;

        for (let add = 1; add <= nplus; add++) {
          this.n = n;
          this.addKnot(1);
          n = this.n;
          if (n === nmax) {
            interpolationKnots = true;
            continue outer;
          }
          if (n === nest) break;
        }
      }
      break;
    }

    // The least-squares polynomial already satisfies fp <= s.
    if (ier === -2) return finish(ier);

    // Part 2: the smoothing spline sp(x) on these knots. Rows of b (the k-th derivative jumps
    // at the interior knots, weight 1/p) are rotated into the triangularised matrix; p is found
    // by rational interpolation of the convex, decreasing f(p) = fp(p) − s.
    const nk1 = n - k1;
    const { g, b, sb } = this;
    this.discontinuities(n);
    const br = { p1: 0, f1: fp0 - s, p3: -1, f3: fpms };
    let p = 0;
    for (let i = 1; i <= nk1; i++) p += a[i * sa + 1];
    p = nk1 / p;
    let ich1 = 0;
    let ich3 = 0;
    const n8 = n - nmin;
    for (let iter = 1; iter <= MAX_ITERATIONS; iter++) {
      const pinv = 1 / p;
      for (let i = 1; i <= nk1; i++) {
        c[i] = z[i];
        g[i * sb + k2] = 0;
        for (let j = 1; j <= k1; j++) g[i * sb + j] = a[i * sa + j];
      }
      for (let it = 1; it <= n8; it++) {
        for (let i = 1; i <= k2; i++) h[i] = b[it * sb + i] * pinv;
        yi[0] = 0;
        for (let j = it; j <= nk1; j++) {
          const piv = h[1];
          this.givens(piv, g, j * sb + 1);
          this.rotate(yi, 0, c, j);
          if (j === nk1) break;
          const i2 = j > n8 ? nk1 - j : k1;
          for (let i = 1; i <= i2; i++) {
            const i1 = i + 1;
            this.rotate(h, i1, g, j * sb + i1);
            h[i] = h[i1];
          }
          h[i2 + 1] = 0;
        }
      }
      FitWork.back(g, sb, c, nk1, k2, c);
      fp = 0;
      let l = k2;
      for (let it = 1; it <= m; it++) {
        if (x[it] >= t[l] && l <= nk1) l += 1;
        const r = w[it] * (this.splineAtSample(it, l - k2) - y[it]);
        fp += r * r;
      }
      fpms = fp - s;
      if (Math.abs(fpms) < acc) return finish(ier);
      if (iter === MAX_ITERATIONS) return finish(3);
      const p2 = p;
      const f2 = fpms;
      if (ich3 === 0) {
        if (!(f2 - br.f3 > acc)) {
          // The initial p is too large.
          br.p3 = p2;
          br.f3 = f2;
          p *= CON4;
          if (p <= br.p1) p = br.p1 * CON9 + p2 * CON1;
          continue;
        }
        if (f2 < 0) ich3 = 1;
      }
      if (ich1 === 0) {
        if (!(br.f1 - f2 > acc)) {
          // The initial p is too small.
          br.p1 = p2;
          br.f1 = f2;
          p /= CON4;
          if (br.p3 < 0) continue;
          if (p >= br.p3) p = p2 * CON1 + br.p3 * CON9;
          continue;
        }
        if (f2 > 0) ich1 = 1;
      }
      if (f2 >= br.f1 || f2 <= br.f3) return finish(2);
      p = rationalRoot(br, p2, f2);
    }
    return finish(3);
  }
}

/**
 * fprati: the zero of the rational function r(p) = (u p + v)/(p + w) through (p1,f1),
 * (p2,f2), (p3,f3) (p3 < 0 stands for infinity); then narrows the bracket so f1 > 0 > f3.
 */
function rationalRoot(br: { p1: number; f1: number; p3: number; f3: number }, p2: number, f2: number): number {
  const { p1, f1, p3, f3 } = br;
  let p: number;
  if (p3 > 0) {
    const h1 = f1 * (f2 - f3);
    const h2 = f2 * (f3 - f1);
    const h3 = f3 * (f1 - f2);
    p = -(p1 * p2 * h3 + p2 * p3 * h1 + p3 * p1 * h2) / (p1 * h1 + p2 * h2 + p3 * h3);
  } else {
    p = (p1 * (f1 - f3) * f2 - p2 * (f2 - f3) * f1) / ((f1 - f2) * f3);
  }
  if (f2 < 0) {
    br.p3 = p2;
    br.f3 = f2;
  } else {
    br.p1 = p2;
    br.f1 = f2;
  }
  return p;
}
