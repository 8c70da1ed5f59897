/**
 * Pairs and the least-squares drift solve of redundant cross-correlation
 * (Wang et al., Opt. Express 22:15982, 2014, doi:10.1364/OE.22.015982; SPEC §4.1 steps 4, 6, 7).
 *
 * The original's unknowns are the n−1 increments u_k between consecutive windows; a pair
 * (i, j) measures Σ_{k=i}^{j−1} u_k = d_j − d_i, with d the drift (d_0 = 0). This file solves
 * the same least-squares problem for d directly: its normal matrix is the Laplacian of the
 * graph whose edges are the measured pairs, BANDED with bandwidth max(j − i) (diagonal for
 * DCC), so a banded Cholesky costs O(n·w²) instead of O(n³) — image stacks have 10⁴ time
 * points. The solution is identical when the pairs determine every window; otherwise the
 * minimum-norm increments of the pseudo-inverse are reached by a vanishing ridge on them.
 */
import type { RegistrationPlan } from '../registration/registrar.js';
import type { DriftTrace } from '../types.js';

export type RccMethod = 'RCC' | 'MCC' | 'DCC';

/**
 * Window pairs (i, j), i < j, flattened as [i0, j0, i1, j1, …]. RCC and MCC use every pair with
 * j − i ≤ corrWindow (every pair when corrWindow ≤ 0); DCC uses (0, j) only.
 */
export function buildPairs(n: number, method: RccMethod, corrWindow: number): Int32Array {
  const out: number[] = [];
  if (method === 'DCC') {
    for (let j = 1; j < n; j++) out.push(0, j);
  } else {
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        if (corrWindow > 0 && j - i > corrWindow) break;
        out.push(i, j);
      }
    }
  }
  return Int32Array.from(out);
}

/**
 * corr_window 'auto' correlates every pair of time windows or time points while there are at most this many
 * pairs (100 time points or windows): long-range pairs stop the random-walk growth of the error that
 * neighbour-only pairs leave; beyond, the widest window that stays within the budget.
 */
export const AUTO_PAIR_BUDGET = 5000;
/** …and never fewer neighbours than the original's default. */
const AUTO_MIN_CORR_WINDOW = 5;

/** The corr_window for `n` time windows or time points (0 = all pairs). */
export function resolveCorrWindow(corrWindow: number | 'auto', n: number): number {
  if (corrWindow !== 'auto') return corrWindow;
  if ((n * (n - 1)) / 2 <= AUTO_PAIR_BUDGET) return 0;
  // Pairs with j − i ≤ w number about n·w − w²/2.
  let w = AUTO_MIN_CORR_WINDOW;
  while (w + 1 < n && n * (w + 1) - ((w + 1) * (w + 2)) / 2 <= AUTO_PAIR_BUDGET) w++;
  return w;
}

/** What both RCC front ends (localizations, images) return; they add their own fields. */
import type { PairDiagnostics } from '../registration/pairDiagnostics.js';

export interface RccResult {
  /** The drift (correction to ADD, nm) at each measured sample time (frames). */
  drift: DriftTrace;
  plan: RegistrationPlan;
  pairs: Int32Array;
  /** Measured increment sums per pair (x, y, z) in nm, correction convention; NaN = none. */
  pairShiftsNm: Float64Array;
  solution: DriftSolution;
  /** Per pair (when asked): the thresholded correlation region, `regionShape`. */
  correlations?: Float32Array[];
  regionShape: [number, number, number];
  /** How trustworthy the pair peaks look (registration/pairDiagnostics.ts); warned about when not. */
  diagnostics: PairDiagnostics;
}

export interface DriftSolution {
  /** Drift at each window, per axis (n values each), the first 0. */
  drift: [Float64Array, Float64Array, Float64Array];
  /** Which pair rows were used in the final solve (1) or rejected/missing (0). */
  used: Uint8Array;
  /** Residual norm of every pair row after the final solve (NaN for missing rows), same unit as the shifts. */
  residuals: Float64Array;
  /** Number of rows rejected by the RCC residual test. */
  rejected: number;
  /** The residual threshold the RCC test used (shiftMax, or the one chosen for 'auto'); NaN for MCC/DCC. */
  shiftMax: number;
  /** False when the kept rows do not determine every increment (minimum-norm solution returned). */
  fullRank: boolean;
}

/** Ridge weight on the increments, used only when the pairs leave windows undetermined. */
const RANK_DEFICIENT_RIDGE = 1e-9;

/**
 * Gross outliers (residual above this multiple of shiftMax) are removed in rounds, re-solving
 * after each: an outlier inflates the residuals of every row near it, so judging all rows on
 * the first solution — as the original did — throws good rows away with it.
 */
const OUTLIER_FACTOR = 3;
/** Each outlier round drops the rows above this fraction of the current worst residual. */
const OUTLIER_ROUND_FRACTION = 0.5;
/**
 * shiftMax 'auto': rows whose residual exceeds this multiple of the median residual are
 * rejected. Residual norms of Gaussian errors are χ-distributed (2 or 3 degrees of freedom):
 * 3 × the median lies beyond their 99.7th percentile, so only outliers go, however noisy the
 * data — a fixed threshold in nm either rejects nothing or, on noisy data, everything but a
 * spanning tree (which makes the solve no better than a chain of single pairs).
 */
export const AUTO_SHIFT_MAX_FACTOR = 3;
/** …but never below this (consistent, noise-free pairs have residuals at rounding level). */
const AUTO_SHIFT_MAX_FLOOR = 1e-3;

/**
 * Solve for the drift from pair measurements. `shifts` holds, per pair, the measured
 * d_j − d_i (x, y, z) in the unit of the result (NaN in any component = no measurement).
 * For RCC, rows whose residual norm exceeds `shiftMax` are dropped, largest first, only while
 * the pair graph stays as connected as it was (full column rank when it was), and the system
 * is solved again — after first removing gross outliers in rounds (see OUTLIER_FACTOR). On
 * data without gross outliers this is exactly the original's single rejection pass.
 */
export function solveDrift(
  n: number,
  pairs: Int32Array,
  shifts: Float64Array,
  { method, shiftMax: shiftMaxOption }: { method: RccMethod; shiftMax: number | 'auto' },
): DriftSolution {
  const rows = pairs.length / 2;
  const used = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    used[r] = Number.isFinite(shifts[3 * r]) && Number.isFinite(shifts[3 * r + 1]) && Number.isFinite(shifts[3 * r + 2]) ? 1 : 0;
  }
  let sol = leastSquares(n, pairs, shifts, used);
  let rejected = 0;
  const auto = shiftMaxOption === 'auto';
  /** The threshold for 'auto', from the median residual of the rows in use. */
  const autoThreshold = (): number => {
    const res = residualNorms(pairs, shifts, used, sol.drift);
    const kept = Array.from(res)
      .filter((v, r) => used[r] && Number.isFinite(v))
      .sort((a, b) => a - b);
    return Math.max(AUTO_SHIFT_MAX_FLOOR, AUTO_SHIFT_MAX_FACTOR * (kept.length ? kept[kept.length >> 1] : 0));
  };
  let shiftMax = auto ? NaN : shiftMaxOption;
  if (method === 'RCC' && n > 1) {
    if (auto) shiftMax = autoThreshold();
    const components = componentCount(n, pairs, used);
    /** Rows that alone connect some windows: never rejected. */
    const pinned = new Uint8Array(rows);
    /** Drop the rows above `cutoff`, largest first, keeping the graph's connectivity. */
    const rejectAbove = (cutoff: number): number => {
      const res = residualNorms(pairs, shifts, used, sol.drift);
      const order = Array.from({ length: rows }, (_, r) => r)
        .filter((r) => used[r] && !pinned[r] && res[r] > cutoff)
        .sort((a, b) => res[b] - res[a]);
      let removed = 0;
      for (const r of order) {
        used[r] = 0;
        if (componentCount(n, pairs, used) === components) removed++;
        else {
          used[r] = 1;
          pinned[r] = 1;
        }
      }
      if (removed > 0) sol = leastSquares(n, pairs, shifts, used);
      return removed;
    };
    for (let round = 0; round < rows; round++) {
      const res = residualNorms(pairs, shifts, used, sol.drift);
      let worst = 0;
      for (let r = 0; r < rows; r++) if (used[r] && !pinned[r] && res[r] > worst) worst = res[r];
      if (!(worst > OUTLIER_FACTOR * shiftMax)) break;
      const removed = rejectAbove(Math.max(OUTLIER_FACTOR * shiftMax, OUTLIER_ROUND_FRACTION * worst));
      rejected += removed;
      // Gross outliers inflate every residual near them: judge the rest on the new solution.
      if (auto && removed > 0) shiftMax = autoThreshold();
    }
    rejected += rejectAbove(shiftMax);
  }
  const residuals = residualNorms(pairs, shifts, new Uint8Array(rows).fill(1), sol.drift);
  return { drift: sol.drift, used, residuals, rejected, fullRank: sol.fullRank, shiftMax: method === 'RCC' ? shiftMax : NaN };
}

function residualNorms(pairs: Int32Array, shifts: Float64Array, used: Uint8Array, d: Float64Array[]): Float64Array {
  const rows = pairs.length / 2;
  const res = new Float64Array(rows).fill(NaN);
  for (let r = 0; r < rows; r++) {
    if (!used[r] || !Number.isFinite(shifts[3 * r])) continue;
    const i = pairs[2 * r];
    const j = pairs[2 * r + 1];
    let ss = 0;
    for (let a = 0; a < 3; a++) ss += (d[a][j] - d[a][i] - shifts[3 * r + a]) ** 2;
    res[r] = Math.sqrt(ss);
  }
  return res;
}

/**
 * Row (i, j) measures drift_j − drift_i: A is the incidence matrix of a graph on the windows,
 * so its rank is n − (number of connected components); full column rank (n − 1 unknowns,
 * d_0 = 0) exactly when the graph is connected. Union–find, O(rows).
 */
function componentCount(n: number, pairs: Int32Array, used: Uint8Array): number {
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (a: number): number => {
    while (parent[a] !== a) {
      parent[a] = parent[parent[a]];
      a = parent[a];
    }
    return a;
  };
  let components = n;
  for (let r = 0; r < used.length; r++) {
    if (!used[r]) continue;
    const a = find(pairs[2 * r]);
    const b = find(pairs[2 * r + 1]);
    if (a !== b) {
      parent[a] = b;
      components--;
    }
  }
  return components;
}

/**
 * Least squares for d_1 … d_{n−1} (d_0 = 0) on the three axes at once: the normal matrix is
 * the pair graph's Laplacian without node 0, stored as a band (lower, `band[k·(w+1) + (k−l)]`
 * for row k, column l ≥ k − w). When the graph is not connected, a ridge λ·Σ(d_{k+1} − d_k)²
 * with λ → 0 selects the minimum-norm increments, as numpy.linalg.pinv does.
 */
function leastSquares(
  n: number,
  pairs: Int32Array,
  shifts: Float64Array,
  used: Uint8Array,
): { drift: [Float64Array, Float64Array, Float64Array]; fullRank: boolean } {
  const drift: [Float64Array, Float64Array, Float64Array] = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  const m = n - 1;
  if (m === 0) return { drift, fullRank: true };
  const fullRank = componentCount(n, pairs, used) === 1;
  let w = fullRank ? 0 : 1;
  // Pairs with window 0 touch only the diagonal (d_0 = 0 is not an unknown).
  for (let r = 0; r < used.length; r++) if (used[r] && pairs[2 * r] > 0) w = Math.max(w, pairs[2 * r + 1] - pairs[2 * r]);
  const bw = w + 1;
  const band = new Float64Array(m * bw);
  const rhs = [new Float64Array(m), new Float64Array(m), new Float64Array(m)];
  // Unknown index k ↔ window k + 1.
  const add = (a: number, b: number, v: number) => {
    if (a < b) [a, b] = [b, a];
    band[a * bw + (a - b)] += v;
  };
  for (let r = 0; r < used.length; r++) {
    if (!used[r]) continue;
    const i = pairs[2 * r] - 1;
    const j = pairs[2 * r + 1] - 1;
    add(j, j, 1);
    for (let a = 0; a < 3; a++) rhs[a][j] += shifts[3 * r + a];
    if (i >= 0) {
      add(i, i, 1);
      add(j, i, -1);
      for (let a = 0; a < 3; a++) rhs[a][i] -= shifts[3 * r + a];
    }
  }
  if (!fullRank) {
    // Ridge on the increments u_0 = d_1 − d_0 (d_0 = 0) and u_k = d_{k+1} − d_k.
    add(0, 0, RANK_DEFICIENT_RIDGE);
    for (let k = 1; k < m; k++) {
      add(k, k, RANK_DEFICIENT_RIDGE);
      add(k - 1, k - 1, RANK_DEFICIENT_RIDGE);
      add(k, k - 1, -RANK_DEFICIENT_RIDGE);
    }
  }
  choleskyBand(band, m, w);
  for (let a = 0; a < 3; a++) {
    const x = rhs[a];
    for (let k = 0; k < m; k++) {
      let s = x[k];
      for (let l = Math.max(0, k - w); l < k; l++) s -= band[k * bw + (k - l)] * x[l];
      x[k] = s / band[k * bw];
    }
    for (let k = m - 1; k >= 0; k--) {
      let s = x[k];
      for (let l = k + 1; l <= Math.min(m - 1, k + w); l++) s -= band[l * bw + (l - k)] * x[l];
      x[k] = s / band[k * bw];
    }
    drift[a].set(x, 1);
  }
  return { drift, fullRank };
}

/** In-place Cholesky factorization of a symmetric positive definite band matrix (lower band of width w). */
function choleskyBand(band: Float64Array, m: number, w: number): void {
  const bw = w + 1;
  for (let k = 0; k < m; k++) {
    for (let l = Math.max(0, k - w); l <= k; l++) {
      let s = band[k * bw + (k - l)];
      for (let p = Math.max(0, k - w); p < l; p++) s -= band[k * bw + (k - p)] * band[l * bw + (l - p)];
      if (l === k) {
        if (!(s > 0)) throw new Error(`internal: drift normal matrix not positive definite at window ${k + 1}`);
        band[k * bw] = Math.sqrt(s);
      } else band[k * bw + (k - l)] = s / band[l * bw];
    }
  }
}

/** The least-squares drift for the rows marked in `used` (no rejection): for the uncertainty's Monte Carlo (driftUncertainty.ts). */
export function solveDriftLeastSquares(n: number, pairs: Int32Array, shifts: Float64Array, used: Uint8Array): [Float64Array, Float64Array, Float64Array] {
  return leastSquares(n, pairs, shifts, used).drift;
}
