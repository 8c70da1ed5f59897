/**
 * Pairs and the least-squares drift solve of redundant cross-correlation
 * (Wang et al., Opt. Express 22:15982, 2014, doi:10.1364/OE.22.015982; SPEC §4.1 steps 4, 6, 7).
 *
 * Unknowns: the n−1 drift increments u_k between consecutive windows k and k+1. A pair (i, j),
 * i < j, measures Σ_{k=i}^{j−1} u_k; the drift at window w is Σ_{k<w} u_k (0 at window 0).
 */

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

export interface DriftSolution {
  /** Drift at each window, per axis (n values each), the first 0. */
  drift: [Float64Array, Float64Array, Float64Array];
  /** Which pair rows were used in the final solve (1) or rejected/missing (0). */
  used: Uint8Array;
  /** Residual norm of every pair row after the final solve (NaN for missing rows), same unit as the shifts. */
  residuals: Float64Array;
  /** Number of rows rejected by the RCC residual test. */
  rejected: number;
  /** False when the kept rows do not determine every increment (minimum-norm solution returned). */
  fullRank: boolean;
}

/**
 * Solve for the drift from pair measurements. `shifts` holds, per pair, the measured
 * increment sum (x, y, z) in the unit of the result (NaN in any component = no measurement).
 * For RCC, rows whose residual norm exceeds `shiftMax` are dropped, largest first, only while
 * the system keeps full column rank, then the system is solved again.
 */
export function solveDrift(
  n: number,
  pairs: Int32Array,
  shifts: Float64Array,
  { method, shiftMax }: { method: RccMethod; shiftMax: number },
): DriftSolution {
  const rows = pairs.length / 2;
  const m = n - 1;
  const used = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    used[r] = Number.isFinite(shifts[3 * r]) && Number.isFinite(shifts[3 * r + 1]) && Number.isFinite(shifts[3 * r + 2]) ? 1 : 0;
  }
  let sol = leastSquares(m, pairs, shifts, used);
  let rejected = 0;
  if (method === 'RCC' && m > 0 && sol.fullRank) {
    const res = residualNorms(pairs, shifts, used, sol.u);
    const order = Array.from({ length: rows }, (_, r) => r)
      .filter((r) => used[r] && res[r] > shiftMax)
      .sort((a, b) => res[b] - res[a]);
    for (const r of order) {
      used[r] = 0;
      if (keepsFullRank(m, pairs, used)) rejected++;
      else used[r] = 1;
    }
    if (rejected > 0) sol = leastSquares(m, pairs, shifts, used);
  }
  const residuals = residualNorms(pairs, shifts, new Uint8Array(rows).fill(1), sol.u);
  const drift: [Float64Array, Float64Array, Float64Array] = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  for (let a = 0; a < 3; a++) {
    let acc = 0;
    for (let k = 0; k < m; k++) {
      acc += sol.u[3 * k + a];
      drift[a][k + 1] = acc;
    }
  }
  return { drift, used, residuals, rejected, fullRank: sol.fullRank };
}

function residualNorms(pairs: Int32Array, shifts: Float64Array, used: Uint8Array, u: Float64Array): Float64Array {
  const rows = pairs.length / 2;
  const res = new Float64Array(rows).fill(NaN);
  for (let r = 0; r < rows; r++) {
    if (!used[r] || !Number.isFinite(shifts[3 * r])) continue;
    let ss = 0;
    for (let a = 0; a < 3; a++) {
      let pred = 0;
      for (let k = pairs[2 * r]; k < pairs[2 * r + 1]; k++) pred += u[3 * k + a];
      ss += (pred - shifts[3 * r + a]) ** 2;
    }
    res[r] = Math.sqrt(ss);
  }
  return res;
}

/** AᵀA of the kept rows (m × m, symmetric). */
function normalMatrix(m: number, pairs: Int32Array, used: Uint8Array): Float64Array {
  const ata = new Float64Array(m * m);
  for (let r = 0; r < used.length; r++) {
    if (!used[r]) continue;
    const i = pairs[2 * r];
    const j = pairs[2 * r + 1];
    for (let a = i; a < j; a++) for (let b = i; b < j; b++) ata[a * m + b] += 1;
  }
  return ata;
}

/** Cholesky factor (lower, in place) or null when AᵀA is singular (rank-deficient A). */
function cholesky(ata: Float64Array, m: number): Float64Array | null {
  const l = Float64Array.from(ata);
  for (let j = 0; j < m; j++) {
    let s = l[j * m + j];
    for (let k = 0; k < j; k++) s -= l[j * m + k] ** 2;
    // Entries of AᵀA are integer counts: a pivot this small means a zero direction.
    if (!(s > 1e-9)) return null;
    const d = Math.sqrt(s);
    l[j * m + j] = d;
    for (let i = j + 1; i < m; i++) {
      let t = l[i * m + j];
      for (let k = 0; k < j; k++) t -= l[i * m + k] * l[j * m + k];
      l[i * m + j] = t / d;
    }
  }
  return l;
}

/**
 * Row (i, j) measures drift_j − drift_i: A is the incidence matrix of a graph on the windows,
 * so it has full column rank exactly when that graph is connected (union–find, O(rows)).
 */
function keepsFullRank(m: number, pairs: Int32Array, used: Uint8Array): boolean {
  const n = m + 1;
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
  return components === 1;
}

/**
 * Least squares Au = b for the three axes at once. Full rank: Cholesky of AᵀA (A is a 0/1
 * band matrix, well conditioned). Rank deficient: minimum-norm solution through the
 * pseudo-inverse of AᵀA from its eigen-decomposition (Jacobi), as numpy.linalg.pinv would give.
 */
function leastSquares(m: number, pairs: Int32Array, shifts: Float64Array, used: Uint8Array): { u: Float64Array; fullRank: boolean } {
  const u = new Float64Array(3 * m);
  if (m === 0) return { u, fullRank: true };
  const ata = normalMatrix(m, pairs, used);
  const atb = new Float64Array(3 * m);
  for (let r = 0; r < used.length; r++) {
    if (!used[r]) continue;
    for (let k = pairs[2 * r]; k < pairs[2 * r + 1]; k++) {
      for (let a = 0; a < 3; a++) atb[3 * k + a] += shifts[3 * r + a];
    }
  }
  const l = cholesky(ata, m);
  if (l) {
    for (let a = 0; a < 3; a++) {
      const y = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        let s = atb[3 * i + a];
        for (let k = 0; k < i; k++) s -= l[i * m + k] * y[k];
        y[i] = s / l[i * m + i];
      }
      for (let i = m - 1; i >= 0; i--) {
        let s = y[i];
        for (let k = i + 1; k < m; k++) s -= l[k * m + i] * u[3 * k + a];
        u[3 * i + a] = s / l[i * m + i];
      }
    }
    return { u, fullRank: true };
  }
  const { values, vectors } = jacobiEigen(ata, m);
  const vmax = Math.max(...values.map(Math.abs));
  const cutoff = vmax * m * 1e-12;
  for (let e = 0; e < m; e++) {
    if (!(Math.abs(values[e]) > cutoff)) continue;
    for (let a = 0; a < 3; a++) {
      let proj = 0;
      for (let k = 0; k < m; k++) proj += vectors[k * m + e] * atb[3 * k + a];
      proj /= values[e];
      for (let k = 0; k < m; k++) u[3 * k + a] += vectors[k * m + e] * proj;
    }
  }
  return { u, fullRank: false };
}

/** Cyclic Jacobi eigen-decomposition of a symmetric matrix; vectors in columns. */
function jacobiEigen(sym: Float64Array, m: number): { values: number[]; vectors: Float64Array } {
  const a = Float64Array.from(sym);
  const v = new Float64Array(m * m);
  for (let i = 0; i < m; i++) v[i * m + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < m; p++) for (let q = p + 1; q < m; q++) off += a[p * m + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < m; p++) {
      for (let q = p + 1; q < m; q++) {
        const apq = a[p * m + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * m + q] - a[p * m + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < m; k++) {
          const akp = a[k * m + p];
          const akq = a[k * m + q];
          a[k * m + p] = c * akp - s * akq;
          a[k * m + q] = s * akp + c * akq;
        }
        for (let k = 0; k < m; k++) {
          const apk = a[p * m + k];
          const aqk = a[q * m + k];
          a[p * m + k] = c * apk - s * aqk;
          a[q * m + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < m; k++) {
          const vkp = v[k * m + p];
          const vkq = v[k * m + q];
          v[k * m + p] = c * vkp - s * vkq;
          v[k * m + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Array.from({ length: m }, (_, i) => a[i * m + i]), vectors: v };
}
