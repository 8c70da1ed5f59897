/**
 * Parameters chosen from the data (issue 10): the localization precision (from a precision
 * column, or estimated by NeNA from neighbours in consecutive frames), the RCC bin size from
 * it, and time windows by localization count rather than frames, since density changes as
 * fluorophores bleach.
 */
import { InsufficientDataError } from '../errors.js';
import type { Metadata, NumericArray } from '../types.js';
import type { TimeWindow } from './estimateDriftFromLocs.js';
import { param } from '../messageParams.js';

export interface PrecisionEstimate {
  /** Median lateral precision (nm). */
  lateralNm: number;
  /** Median axial precision (nm), when the table has z. */
  axialNm?: number;
  /** Where it came from, for the report: a column name or 'NeNA'. */
  source: string;
}

/** Lateral precision columns in nm, by convention: PYME, ThunderSTORM, plain. */
const LATERAL_NM_COLUMNS: readonly (readonly string[])[] = [
  ['error_x', 'error_y'],
  ['uncertainty_xy [nm]'],
  ['uncertainty [nm]'],
  ['uncertainty_xy'],
  ['uncertainty'],
  ['precision'],
];
/** Picasso's lpx, lpy are camera pixels. */
const LATERAL_PX_COLUMNS = ['lpx', 'lpy'] as const;
const AXIAL_NM_COLUMNS = ['error_z', 'uncertainty_z [nm]', 'uncertainty_z'] as const;
/** Precision below this or above this (nm) is not believed: a column in other units, or garbage. */
const PLAUSIBLE_PRECISION_NM: [number, number] = [0.3, 300];
/** At most this many rows are sampled for medians and NeNA. */
const SAMPLE_ROWS = 200_000;
/** When nothing else says, axial precision is this multiple of lateral (astigmatic 3D). */
export const DEFAULT_AXIAL_FACTOR = 2.5;

/** Median of the finite positive values of a column, sampled evenly. */
function sampledMedian(v: NumericArray, scale = 1): number {
  const step = Math.max(1, Math.floor(v.length / SAMPLE_ROWS));
  // A typed array sorts numerically without a comparator: ~10× faster than an Array of numbers.
  const vals = new Float64Array(Math.ceil(v.length / step));
  let m = 0;
  for (let i = 0; i < v.length; i += step) {
    const a = v[i] * scale;
    if (Number.isFinite(a) && a > 0) vals[m++] = a;
  }
  if (m === 0) return NaN;
  const used = vals.subarray(0, m).sort();
  return used[m >> 1];
}

function plausible(v: number): boolean {
  return v >= PLAUSIBLE_PRECISION_NM[0] && v <= PLAUSIBLE_PRECISION_NM[1];
}

function pixelSizeNm(metadata: Metadata | undefined): number | undefined {
  if (!metadata) return undefined;
  if (typeof metadata.Pixelsize === 'number' && metadata.Pixelsize > 0) return metadata.Pixelsize;
  const v = metadata['voxelsize.x'];
  return typeof v === 'number' && v > 0 ? v * 1000 : undefined;
}

/**
 * The localization precision of a table: the median of its precision column when it has one
 * (error_x/error_y, ThunderSTORM uncertainty, Picasso lpx/lpy in pixels), else NeNA.
 */
export function estimatePrecision(columns: ReadonlyMap<string, NumericArray>, metadata?: Metadata): PrecisionEstimate {
  const x = columns.get('x');
  const y = columns.get('y');
  const t = columns.get('t');
  const z = columns.get('z');
  if (!x || !y || !t) throw new InsufficientDataError('precision estimate: the table needs x, y and t columns');
  let lateral: number | undefined;
  let source = '';
  for (const names of LATERAL_NM_COLUMNS) {
    if (names.every((c) => columns.has(c))) {
      const m = median(names.map((c) => sampledMedian(columns.get(c)!)));
      if (plausible(m)) {
        lateral = m;
        source = `the ${names.join('/')} column${names.length > 1 ? 's' : ''}`;
        break;
      }
    }
  }
  if (lateral === undefined && LATERAL_PX_COLUMNS.every((c) => columns.has(c))) {
    const px = pixelSizeNm(metadata);
    if (px) {
      const m = median(LATERAL_PX_COLUMNS.map((c) => sampledMedian(columns.get(c)!, px)));
      if (plausible(m)) {
        lateral = m;
        source = `the lpx/lpy columns (× ${px} nm pixels)`;
      }
    }
  }
  let axial: number | undefined;
  if (z) {
    for (const c of AXIAL_NM_COLUMNS) {
      if (columns.has(c)) {
        const m = sampledMedian(columns.get(c)!);
        if (plausible(m)) {
          axial = m;
          break;
        }
      }
    }
  }
  if (lateral === undefined || (z && axial === undefined)) {
    const nena = nenaPrecision(x, y, t, z);
    if (lateral === undefined) {
      lateral = nena.lateralNm;
      source = 'NeNA (neighbours in consecutive frames)';
    }
    if (z && axial === undefined) axial = nena.axialNm ?? DEFAULT_AXIAL_FACTOR * lateral;
  }
  return { lateralNm: lateral, axialNm: z ? axial : undefined, source };
}

function median(v: number[]): number {
  const s = v.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** NeNA needs at least this many neighbour pairs. */
const NENA_MIN_PAIRS = 200;

/**
 * NeNA (Endesfelder et al., Histochem. Cell Biol. 141:629, 2014): the distance from a
 * localization to its nearest neighbour in the next frame is, for the same emitter still on,
 * Rayleigh-distributed with scale √2·σ; other neighbours add a background growing linearly with
 * distance. Fitted by expectation–maximisation within a radius that shrinks to 6 σ. Axial: the
 * robust spread of z differences of the close pairs, divided by √2.
 */
export function nenaPrecision(x: NumericArray, y: NumericArray, t: NumericArray, z?: NumericArray): { lateralNm: number; axialNm?: number } {
  const n = t.length;
  // Rows of each frame (t sorted ascending is not assumed: sort indices by frame).
  const order = Array.from({ length: n }, (_, i) => i);
  const sortedByT = (() => {
    for (let i = 1; i < n; i++) if (t[i] < t[i - 1]) return false;
    return true;
  })();
  if (!sortedByT) order.sort((a, b) => t[a] - t[b]);
  const step = Math.max(1, Math.floor(n / SAMPLE_ROWS));
  const maxR = 250;
  const dist: number[] = [];
  const dz: number[] = [];
  let i = 0;
  // Walk frame by frame; for each sampled row of frame f, nearest row of frame f+1 (x-sorted scan).
  const frameStarts: number[] = [];
  for (let k = 0; k < n; k++) if (k === 0 || Math.floor(t[order[k]]) !== Math.floor(t[order[k - 1]])) frameStarts.push(k);
  frameStarts.push(n);
  for (let q = 0; q + 2 < frameStarts.length; q++) {
    const a0 = frameStarts[q];
    const a1 = frameStarts[q + 1];
    const b1 = frameStarts[q + 2];
    if (Math.floor(t[order[a1]]) !== Math.floor(t[order[a0]]) + 1) continue;
    const next = order.slice(a1, b1).sort((p, r) => x[p] - x[r]);
    const nx = next.map((r) => x[r]);
    for (let k = a0; k < a1; k++, i++) {
      if (i % step !== 0) continue;
      const r0 = order[k];
      let best = maxR;
      let bestRow = -1;
      let lo = 0;
      let hi = nx.length;
      while (lo < hi) {
        const m = (lo + hi) >> 1;
        if (nx[m] < x[r0] - maxR) lo = m + 1;
        else hi = m;
      }
      for (let m = lo; m < nx.length && nx[m] <= x[r0] + maxR; m++) {
        const d = Math.hypot(nx[m] - x[r0], y[next[m]] - y[r0]);
        if (d < best) {
          best = d;
          bestRow = next[m];
        }
      }
      if (bestRow >= 0) {
        dist.push(best);
        if (z) dz.push(z[bestRow] - z[r0]);
      }
    }
  }
  if (dist.length < NENA_MIN_PAIRS) {
    throw new InsufficientDataError(
      `the localization precision cannot be estimated: the table has no precision column (error_x/error_y, uncertainty, lpx/lpy) ` +
        `and only ${dist.length} neighbour pairs in consecutive frames for NeNA (needs ${NENA_MIN_PAIRS}); give ${param('binSizeNm')}`,
    );
  }
  let sigma = 20;
  let radius = maxR;
  for (let round = 0; round < 4; round++) {
    const ds = dist.filter((d) => d < radius);
    let w = 0.5;
    for (let it = 0; it < 200; it++) {
      // E-step: responsibility of the Rayleigh(√2σ) component; background density 2d/R².
      let sr = 0;
      let srd2 = 0;
      for (const d of ds) {
        const s2 = 2 * sigma * sigma;
        const pSame = (w * d * Math.exp(-(d * d) / (2 * s2))) / s2;
        const pBg = ((1 - w) * 2 * d) / (radius * radius);
        const resp = pSame / (pSame + pBg || 1);
        sr += resp;
        srd2 += resp * d * d;
      }
      const next = Math.sqrt(srd2 / (4 * Math.max(sr, 1e-9)));
      w = sr / ds.length;
      const done = Math.abs(next - sigma) < 1e-4 * sigma;
      sigma = next;
      if (done) break;
    }
    radius = Math.min(maxR, Math.max(6 * sigma * Math.SQRT2, 30));
  }
  let axialNm: number | undefined;
  if (z) {
    const close = dz
      .filter((_, k) => dist[k] < 2 * Math.SQRT2 * sigma)
      .map(Math.abs)
      .sort((a, b) => a - b);
    if (close.length >= NENA_MIN_PAIRS / 2) axialNm = (1.4826 * close[close.length >> 1]) / Math.SQRT2;
  }
  return { lateralNm: sigma, axialNm };
}

/** RCC's bin relative to the precision: finer bins add noise, not resolution (measured over simulations). */
export const RCC_BIN_PER_PRECISION = 1.3;
/** The RCC bin is kept within this range (nm). */
export const RCC_BIN_RANGE_NM: [number, number] = [5, 100];

/**
 * With the fine stage after it, RCC only has to bring the drift within the fine stage's reach:
 * coarser bins cost less and lose nothing at the end (measured over dense, bead, fast + jumps,
 * sparse and 3D simulations, two seeds each: 4 × gave the same RMSE as 2.5 × within 0.05 nm and a
 * third less time; 6 × no further gain).
 */
export const RCC_BIN_PER_PRECISION_REFINED = 4;

/** The RCC histogram bin for a precision, rounded to 0.5 nm. */
export function chooseBinSize(precisionNm: number, refined = false): number {
  const b = Math.round(2 * (refined ? RCC_BIN_PER_PRECISION_REFINED : RCC_BIN_PER_PRECISION) * precisionNm) / 2;
  return Math.min(RCC_BIN_RANGE_NM[1], Math.max(RCC_BIN_RANGE_NM[0], b));
}

/** Localizations per RCC window at 'auto': enough for a reliable peak at 10–30 nm precision. */
export const WINDOW_TARGET_LOCS = 3000;
/** At least this many windows (the redundancy RCC needs)… */
export const MIN_AUTO_WINDOWS = 10;
/** …and at most this many: more add FFTs and pairs faster than accuracy… */
export const MAX_AUTO_WINDOWS = 60;
/** …and when the fine stage follows, RCC only has to bring the drift within its reach. */
export const MAX_AUTO_WINDOWS_REFINED = 25;

/** The number of windows for `n` localizations at 'auto'. */
export function chooseWindowCount(n: number, refined = false): number {
  const max = refined ? MAX_AUTO_WINDOWS_REFINED : MAX_AUTO_WINDOWS;
  return Math.min(max, Math.max(MIN_AUTO_WINDOWS, Math.round(n / WINDOW_TARGET_LOCS)));
}

/**
 * Consecutive windows of about equal localization count over frame-sorted `t` (whole frames
 * each), cut at every break; a window's sample time is the mean frame of its localizations.
 */
export function makeCountWindows(t: NumericArray, count: number, breaks: readonly number[] = []): TimeWindow[] {
  const n = t.length;
  const target = n / count;
  const cuts = [...breaks].sort((a, b) => a - b);
  const windows: TimeWindow[] = [];
  let from = 0;
  let k = 1;
  while (from < n) {
    const start = Math.floor(t[from]);
    const nextBreak = cuts.find((b) => b > start) ?? Infinity;
    let to = from;
    while (to < n && t[to] < nextBreak && (to - from === 0 || to < k * target)) {
      const f = Math.floor(t[to]);
      while (to < n && Math.floor(t[to]) === f) to++;
    }
    while (k * target <= to) k++;
    const end = to < n ? Math.floor(t[to]) : Math.floor(t[n - 1]) + 1;
    let sum = 0;
    for (let i = from; i < to; i++) sum += t[i];
    windows.push({ startFrame: start, endFrame: end, from, to, sampleTime: sum / (to - from) });
    from = to;
  }
  return windows;
}
