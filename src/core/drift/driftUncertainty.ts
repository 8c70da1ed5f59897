/**
 * Standard errors of drift samples (issue 15), per axis in nm, of each sample after the
 * arbitrary constant offset is removed (the offset does not matter to a correction).
 *
 * Why not only the pair residuals: a pair (i, j) measures (d_j + ε_j) − (d_i + ε_i) + η_ij,
 * where ε_i is window i's own error (its localizations or its photon noise are one random
 * sample of the structure: to first order the correlation peak moves by a term of each image's
 * noise alone) and η_ij what is particular to the pair (pixel locking, the noise × noise term).
 * The least-squares model absorbs every ε exactly, so the residuals see η only, and the
 * least-squares covariance scaled by them is 2× too small on simulations. Each path therefore
 * adds what sees ε:
 *   - fine stage: each segment's sandwich estimate (refineDrift.ts), rescaled by the scatter
 *     of consecutive samples (differences, which a smooth drift does not feed);
 *   - RCC on localizations: the least-squares covariance scaled by the pair residuals, plus the
 *     scatter of the RCC samples about one leave-one-out registration of windows of the same
 *     size against all other localizations (a validation pass of the fine stage);
 *   - RCC on images (a sample every time point): the least-squares part plus the difference
 *     scatter of the samples.
 */
import { createRandom } from '../simulate/random.js';
import type { DriftTrace } from '../types.js';
import { solveDriftLeastSquares } from './solveDrift.js';

export type Axis = 'x' | 'y' | 'z';
export const AXES: readonly Axis[] = ['x', 'y', 'z'];
export type AxisSd = { x: Float64Array; y: Float64Array; z: Float64Array };

/** The median of χ²₁: a squared standard normal is below this half of the time. */
const CHI2_1_MEDIAN = 0.4549364231195724;
/**
 * Differences of this order (binomial coefficients 1, −5, 10, −10, 5, −1) measure the scatter:
 * a polynomial trend of lower degree drops out, and a smooth drift sampled k times per period
 * leaves (2π/k)⁵ of its amplitude — differences let the curvature of sparse samples
 * (~30 over an acquisition) double the scale; the noise variance grows by C(10, 5) = 252.
 */
export const DIFFERENCE_ORDER = 5;
const DIFF = Array.from({ length: DIFFERENCE_ORDER + 1 }, (_, k) => (k % 2 ? -1 : 1) * binomial(DIFFERENCE_ORDER, k));
/** Below this many differences a scatter scale is not estimated. */
export const MIN_SCATTER_SAMPLES = 6;
/** Monte Carlo draws for the least-squares covariance of the RCC solve. */
export const LS_COVARIANCE_DRAWS = 200;

/**
 * The scale k by which `sd` must be multiplied so that the samples' differences, each
 * normalised by its predicted sd, have a standard normal spread (robustly: median of z² against
 * χ²₁'s median, so a jump or an outlier does not inflate it). Differences across a break are
 * skipped. NaN when too few differences are available. With `sd` all ones this is the noise sd.
 */
export function differenceScale(t: Float64Array, v: Float64Array, sd: Float64Array, breaks?: ArrayLike<number>): number {
  const m = v.length;
  const cuts = breaks ? Array.from(breaks) : [];
  const z2: number[] = [];
  const order = DIFFERENCE_ORDER;
  for (let i = 0; i + order < m; i++) {
    if (cuts.some((b) => b > t[i] && b <= t[i + order])) continue;
    let d = 0;
    let s = 0;
    for (let k = 0; k <= order; k++) {
      d += DIFF[k] * v[i + k];
      s += (DIFF[k] * sd[i + k]) ** 2;
    }
    if (s > 0 && Number.isFinite(d)) z2.push((d * d) / s);
  }
  if (z2.length < MIN_SCATTER_SAMPLES) return NaN;
  z2.sort((a, b) => a - b);
  const mid = z2.length >> 1;
  const median = z2.length % 2 ? z2[mid] : 0.5 * (z2[mid - 1] + z2[mid]);
  return Math.sqrt(median / CHI2_1_MEDIAN);
}

/**
 * The fine stage's sandwich estimates are ~20 % too small on simulations (the reference is
 * itself a noisy sample, and the peak is located on a grid): chi of the true errors 1.1–1.34
 * over dense, sparse, fast + jumps and 3D acquisitions. The scatter of the samples cannot set
 * this scale instead: real drift has texture at the segments' scale (it doubled the scale on
 * sparse data, ~1000-frame segments).
 */
export const FINE_SD_FACTOR = 1.2;

/** Fine-stage standard errors: the sandwich estimates times FINE_SD_FACTOR (z stays 0 for 2D). */
export function calibrateSampleSd(trace: DriftTrace, sd: AxisSd): AxisSd {
  const out = {} as AxisSd;
  for (const a of AXES) {
    const flat = trace[a].every((x) => x === 0);
    out[a] = Float64Array.from(sd[a], (x) => (flat ? 0 : x * FINE_SD_FACTOR));
  }
  return out;
}

/**
 * The least-squares part of an RCC solve's standard errors: the covariance of the drift at the
 * `measured` windows, centred on their mean (the offset removed), for pair errors of the size
 * of the residuals (σ² = RSS / (rows − unknowns), per axis). By Monte Carlo through the same
 * banded solver (LS_COVARIANCE_DRAWS draws of unit pair noise, fixed seed): exact enough (±5 %)
 * and O(draws · n · bandwidth²) for image stacks of 10⁴ time points.
 */
export function leastSquaresSd(
  n: number,
  pairs: Int32Array,
  shifts: Float64Array,
  used: Uint8Array,
  drift: [Float64Array, Float64Array, Float64Array],
  measured: readonly number[],
): { sd: AxisSd; pairSdNm: [number, number, number] } {
  const rows = used.length;
  let kept = 0;
  const rss = [0, 0, 0];
  for (let r = 0; r < rows; r++) {
    if (!used[r]) continue;
    kept++;
    const i = pairs[2 * r];
    const j = pairs[2 * r + 1];
    for (let a = 0; a < 3; a++) rss[a] += (drift[a][j] - drift[a][i] - shifts[3 * r + a]) ** 2;
  }
  const dof = kept - (n - 1);
  const pairSd = rss.map((s) => (dof > 0 ? Math.sqrt(s / dof) : NaN)) as [number, number, number];
  const m = measured.length;
  const variance = new Float64Array(m);
  const rng = createRandom(15);
  const noise = new Float64Array(3 * rows);
  for (let draw = 0; draw < LS_COVARIANCE_DRAWS; draw++) {
    for (let r = 0; r < rows; r++) noise[3 * r] = used[r] ? rng.normal() : 0;
    const d = solveDriftLeastSquares(n, pairs, noise, used)[0];
    let mean = 0;
    for (const i of measured) mean += d[i];
    mean /= m;
    measured.forEach((i, k) => (variance[k] += (d[i] - mean) ** 2));
  }
  const unit = Float64Array.from(variance, (v) => Math.sqrt(v / LS_COVARIANCE_DRAWS));
  const sd = {} as AxisSd;
  AXES.forEach((a, k) => (sd[a] = Float64Array.from(unit, (u) => (Number.isFinite(pairSd[k]) ? u * pairSd[k] : 0))));
  return { sd, pairSdNm: pairSd };
}

/** Combine independent parts: sd = √(a² + b²) per sample and axis. */
export function addInQuadrature(a: AxisSd, b: AxisSd): AxisSd {
  const out = {} as AxisSd;
  for (const ax of AXES) out[ax] = Float64Array.from(a[ax], (v, i) => Math.hypot(v, b[ax][i]));
  return out;
}

/** The same sd for every sample of each axis. */
export function uniformSd(m: number, perAxis: [number, number, number]): AxisSd {
  return { x: new Float64Array(m).fill(perAxis[0]), y: new Float64Array(m).fill(perAxis[1]), z: new Float64Array(m).fill(perAxis[2]) };
}

/**
 * The RMS difference per axis between two drift traces sampled at different times: `b`
 * interpolated linearly at `a`'s times (inside b's range only), the mean difference removed.
 */
export function rmsDifference(a: DriftTrace, b: DriftTrace): [number, number, number] {
  const out: [number, number, number] = [0, 0, 0];
  AXES.forEach((ax, k) => {
    const diffs: number[] = [];
    let q = 0;
    for (let i = 0; i < a.t.length; i++) {
      const t = a.t[i];
      if (t < b.t[0] || t > b.t[b.t.length - 1]) continue;
      while (q + 2 < b.t.length && b.t[q + 1] < t) q++;
      const g = b.t[q + 1] > b.t[q] ? (t - b.t[q]) / (b.t[q + 1] - b.t[q]) : 0;
      diffs.push(a[ax][i] - (b[ax][q] + g * (b[ax][q + 1] - b[ax][q])));
    }
    if (diffs.length === 0) return;
    const mean = diffs.reduce((p, v) => p + v, 0) / diffs.length;
    out[k] = Math.sqrt(diffs.reduce((p, v) => p + (v - mean) ** 2, 0) / diffs.length);
  });
  return out;
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}
