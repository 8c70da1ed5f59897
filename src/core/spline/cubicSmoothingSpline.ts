/**
 * The cubic smoothing spline with a knot at every sample (Reinsch, Numer. Math. 10:177, 1967;
 * Green & Silverman, "Nonparametric Regression and Generalized Linear Models", 1994, ch. 2):
 * f minimises Σ w_i (y_i − f(t_i))² + λ ∫ f''², natural at the ends, solved in O(m) through
 * the pentadiagonal system (R + λ Qᵀ W⁻¹ Q) γ = Qᵀ y, f = y − λ W⁻¹ Q γ.
 *
 * `crossValidatedSmoothing` chooses λ from the data by two-fold cross-validation (fit on the
 * even samples, predict the odd ones, and back): the drift's noise is read from the samples
 * themselves, with no assumption on its size, and drift faster than the noise is followed.
 */
import { InsufficientDataError } from '../errors.js';

export interface NaturalSpline {
  t: Float64Array;
  /** Values at t. */
  f: Float64Array;
  /** Second derivatives at t (0 at both ends). */
  g: Float64Array;
}

/** Fit with a given λ (t strictly increasing, w > 0). */
export function fitCubicSmoothingSpline(t: Float64Array, y: Float64Array, w: Float64Array, lambda: number): NaturalSpline {
  const m = t.length;
  if (m < 3) return { t, f: Float64Array.from(y), g: new Float64Array(m) };
  const n = m - 2;
  const h = new Float64Array(m - 1);
  for (let i = 0; i < m - 1; i++) h[i] = t[i + 1] - t[i];
  // Q columns j = 0..n−1 (interior knot j+1): Q[j][j] = 1/h_j, Q[j+1][j] = −1/h_j − 1/h_{j+1}, Q[j+2][j] = 1/h_{j+1}.
  const q0 = new Float64Array(n);
  const q1 = new Float64Array(n);
  const q2 = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    q0[j] = 1 / h[j];
    q1[j] = -1 / h[j] - 1 / h[j + 1];
    q2[j] = 1 / h[j + 1];
  }
  // Symmetric pentadiagonal A = R + λ Qᵀ W⁻¹ Q: diagonals d0 (main), d1 (first off), d2 (second off).
  const d0 = new Float64Array(n);
  const d1 = new Float64Array(n);
  const d2 = new Float64Array(n);
  const iw = (i: number) => 1 / w[i];
  for (let j = 0; j < n; j++) {
    d0[j] = (h[j] + h[j + 1]) / 3 + lambda * (q0[j] ** 2 * iw(j) + q1[j] ** 2 * iw(j + 1) + q2[j] ** 2 * iw(j + 2));
    if (j + 1 < n) {
      d1[j] = h[j + 1] / 6 + lambda * (q1[j] * q0[j + 1] * iw(j + 1) + q2[j] * q1[j + 1] * iw(j + 2));
    }
    if (j + 2 < n) d2[j] = lambda * q2[j] * q0[j + 2] * iw(j + 2);
  }
  const rhs = new Float64Array(n);
  for (let j = 0; j < n; j++) rhs[j] = q0[j] * y[j] + q1[j] * y[j + 1] + q2[j] * y[j + 2];
  const gamma = solvePentadiagonal(d0, d1, d2, rhs);
  const f = Float64Array.from(y);
  // f = y − λ W⁻¹ Q γ
  for (let j = 0; j < n; j++) {
    f[j] -= lambda * iw(j) * q0[j] * gamma[j];
    f[j + 1] -= lambda * iw(j + 1) * q1[j] * gamma[j];
    f[j + 2] -= lambda * iw(j + 2) * q2[j] * gamma[j];
  }
  const g = new Float64Array(m);
  g.set(gamma, 1);
  return { t, f, g };
}

/** LDLᵀ of a symmetric positive definite pentadiagonal matrix, then the solve. */
function solvePentadiagonal(d0: Float64Array, d1: Float64Array, d2: Float64Array, b: Float64Array): Float64Array {
  const n = d0.length;
  const D = new Float64Array(n);
  const L1 = new Float64Array(n);
  const L2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let di = d0[i];
    if (i >= 1) di -= L1[i - 1] ** 2 * D[i - 1];
    if (i >= 2) di -= L2[i - 2] ** 2 * D[i - 2];
    D[i] = di;
    if (i + 1 < n) {
      let v = d1[i];
      if (i >= 1) v -= L1[i - 1] * L2[i - 1] * D[i - 1];
      L1[i] = v / di;
    }
    if (i + 2 < n) L2[i] = d2[i] / di;
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    if (i >= 1) x[i] -= L1[i - 1] * x[i - 1];
    if (i >= 2) x[i] -= L2[i - 2] * x[i - 2];
  }
  for (let i = 0; i < n; i++) x[i] /= D[i];
  for (let i = n - 1; i >= 0; i--) {
    if (i + 1 < n) x[i] -= L1[i] * x[i + 1];
    if (i + 2 < n) x[i] -= L2[i] * x[i + 2];
  }
  return x;
}

/** The natural spline at times u (linear beyond the ends, along the end slopes). */
export function evaluateNaturalSpline(s: NaturalSpline, u: ArrayLike<number>, out = new Float64Array(u.length)): Float64Array {
  const { t, f, g } = s;
  const m = t.length;
  if (m === 1) return out.fill(f[0]);
  let k = 0;
  for (let q = 0; q < u.length; q++) {
    const x = u[q];
    if (x <= t[0] || x >= t[m - 1]) {
      const left = x <= t[0];
      const i = left ? 0 : m - 2;
      const hh = t[i + 1] - t[i];
      // End slope of the natural cubic piece.
      const slope = (f[i + 1] - f[i]) / hh - (hh / 6) * (left ? 2 * g[0] + g[1] : -(g[m - 2] + 2 * g[m - 1]));
      out[q] = left ? f[0] + slope * (x - t[0]) : f[m - 1] + slope * (x - t[m - 1]);
      continue;
    }
    if (x < t[k]) k = 0;
    while (k + 2 < m && t[k + 1] <= x) k++;
    const hh = t[k + 1] - t[k];
    const a = x - t[k];
    const b = t[k + 1] - x;
    out[q] = (b * f[k] + a * f[k + 1]) / hh - ((a * b) / 6) * ((1 + a / hh) * g[k + 1] + (1 + b / hh) * g[k]);
  }
  return out;
}

/** λ is scanned over this many decades above the scale where the spline interpolates… */
const LAMBDA_DECADES = 14;
/** …in steps of this many decades. */
const LAMBDA_STEP = 0.125;
/** Below this many samples cross-validation has nothing to go on: interpolate. */
export const MIN_CV_SAMPLES = 8;

/**
 * λ by two-fold cross-validation: each half of the samples (even, odd) predicts the other;
 * the λ found for half the samples is halved for all of them (the same balance of data to
 * roughness per unit time). Returns the fitted spline through all samples.
 */
export function crossValidatedSmoothing(t: Float64Array, y: Float64Array, w: Float64Array): { spline: NaturalSpline; lambda: number; cvMeanSquare: number } {
  const m = t.length;
  if (m < 2) throw new InsufficientDataError('smoothing needs at least two samples');
  if (m < MIN_CV_SAMPLES) return { spline: fitCubicSmoothingSpline(t, y, w, 0), lambda: 0, cvMeanSquare: NaN };
  const halves = [0, 1].map((r) => {
    const idx = Array.from({ length: m }, (_, i) => i).filter((i) => i % 2 === r);
    return {
      t: Float64Array.from(idx, (i) => t[i]),
      y: Float64Array.from(idx, (i) => y[i]),
      w: Float64Array.from(idx, (i) => w[i]),
    };
  });
  const span = t[m - 1] - t[0];
  const meanH = span / (m - 1);
  let wSum = 0;
  for (let i = 0; i < m; i++) wSum += w[i];
  const meanW = wSum / m;
  // λ ≈ w̄ · h̄³ gives an equivalent bandwidth of about one sample spacing.
  const base = meanW * meanH ** 3;
  let best = Infinity;
  let bestLambda = base;
  let bestMeanSquare = NaN;
  for (let e = 0; e <= LAMBDA_DECADES; e += LAMBDA_STEP) {
    const lambda = base * 10 ** e;
    let err = 0;
    let squares = 0;
    for (let r = 0; r < 2; r++) {
      const fit = fitCubicSmoothingSpline(halves[r].t, halves[r].y, halves[r].w, lambda);
      const other = halves[1 - r];
      const pred = evaluateNaturalSpline(fit, other.t);
      for (let i = 0; i < pred.length; i++) {
        err += other.w[i] * (pred[i] - other.y[i]) ** 2;
        squares += (pred[i] - other.y[i]) ** 2;
      }
    }
    if (err < best) {
      best = err;
      bestLambda = lambda;
      bestMeanSquare = squares / m;
    }
  }
  const lambda = bestLambda / 2;
  // cvMeanSquare: the unweighted mean squared error of each half predicting the other, at the chosen λ.
  return { spline: fitCubicSmoothingSpline(t, y, w, lambda), lambda, cvMeanSquare: bestMeanSquare };
}
