/**
 * Locs_RCC: drift of a localization table by redundant cross-correlation of time-window
 * histograms (Wang et al., Opt. Express 22:15982, 2014, doi:10.1364/OE.22.015982; SPEC §4.1).
 */
import { checkCorrWindow, checkPositiveOrAuto, checkRccMethod, checkShiftMax, checkTukeySize } from '../parameters.js';
import { InputError, InsufficientDataError, UsageError } from '../errors.js';
import { binPoints, computeBinGrid, histogramInto, type BinGrid } from '../histogram/binGrid.js';
import type { BinnedPoints } from '../registration/pointCorrelation.js';
import { tukeyWindow } from '../histogram/tukey.js';
import { inlineExecutor, type CorrelationExecutor } from '../registration/correlationExecutor.js';
import { createRegistrationPlan, registrationBytes } from '../registration/registrar.js';
import { checkAllocation } from '../memoryLimit.js';
import { checkPlausibleLocs } from './plausibleLocs.js';
import { diagnosePairs, pairWarnings } from '../registration/pairDiagnostics.js';
import type { DriftTrace, NumericArray, ProgressReporter } from '../types.js';
import { buildPairs, resolveCorrWindow, solveDrift, type RccMethod, type RccResult } from './solveDrift.js';
import { chooseBinSize, chooseWindowCount, estimatePrecision, makeCountWindows, type PrecisionEstimate } from './autoParameters.js';
import { refineDrift, type RefineResult } from './refineDrift.js';
import { estimateDriftByMarkers, type AimLocsOptions, type FiducialLocsOptions, type MarkerMethodResult } from './estimateDriftByMarkers.js';
import { addInQuadrature, calibrateSampleSd, leastSquaresSd, rmsDifference, uniformSd, type AxisSd } from './driftUncertainty.js';
import { param } from '../messageParams.js';

export interface LocsRccOptions {
  /** Frames between window starts; 'auto': windows of equal localization count (autoParameters.ts). */
  stepFrames: number | 'auto';
  /** Frames each window spans (≥ step); 'auto': the step (or count windows when step is 'auto' too). */
  windowFrames: number | 'auto';
  /** Histogram bin (nm); 'auto': from the localization precision. */
  binSizeNm: number | 'auto';
  /** Ignore z (a single z bin) even when the table has z. */
  flattenZ: boolean;
  /** Shape of the Tukey window applied to each histogram (0 = none, 1 = Hann). */
  tukeySize: number;
  method: RccMethod;
  /** RCC rejects pair rows whose residual exceeds this, nm ('auto': see solveDrift's AUTO_SHIFT_MAX_FACTOR). */
  shiftMaxNm: number | 'auto';
  /** Pairs (i, j) with j − i ≤ corrWindow (all pairs when ≤ 0; 'auto': see resolveCorrWindow). */
  corrWindow: number | 'auto';
  /** Keep every pair's thresholded correlation image (debug output). */
  keepCorrelations?: boolean;
  /**
   * The fine stage after RCC (refineDrift.ts): true or its options; false for RCC alone.
   */
  refine?: boolean | { segmentLocs?: number | 'auto'; toleranceNm?: number; maxIterations?: number };
  /** Frames where the drift jumps: given, 'auto' (detected by the fine stage) or 'none'. */
  breaks?: readonly number[] | 'auto' | 'none';
  /** The localization precision, when known (else from the table: autoParameters.ts). */
  precision?: PrecisionEstimate;
  /** Number of count windows when step and window are 'auto' (else chooseWindowCount). */
  windowCount?: number;
  /**
   * RCC alone: validate the samples' standard errors by one leave-one-out registration of
   * windows against all other localizations (driftUncertainty.ts; ~1–2× the RCC's time). Off:
   * the pair residuals' part only, which misses each window's own error (too small by ~2×).
   * @default true
   */
  validateUncertainty?: boolean;
}

/** What estimateDriftFromLocs does when asked nothing: everything from the data, with the fine stage. */
export const LOCS_DRIFT_DEFAULTS = {
  stepFrames: 'auto',
  windowFrames: 'auto',
  binSizeNm: 'auto',
  flattenZ: false,
  tukeySize: 0.25,
  method: 'RCC',
  shiftMaxNm: 'auto',
  corrWindow: 'auto',
  refine: true,
  breaks: 'auto',
} as const satisfies LocsRccOptions;

export interface LocColumns {
  x: NumericArray;
  y: NumericArray;
  z?: NumericArray;
  t: NumericArray;
}

/** A localization table (columns by name) also serves, and its precision columns are used. */
export type LocInput = LocColumns | { columns: ReadonlyMap<string, NumericArray>; metadata?: import('../types.js').Metadata };

export interface TimeWindow {
  startFrame: number;
  endFrame: number;
  /** Row range [from, to) in the time-sorted arrays. */
  from: number;
  to: number;
  /** Sample time when not the window's middle (count windows: the mean frame of its rows). */
  sampleTime?: number;
}

/**
 * A window with fewer localizations than this fraction of the median window is left out: its
 * histogram is mostly noise, its correlations give confident but wrong shifts (a gap in the
 * acquisition, a laser switched off), and they pull every window near it.
 */
export const SPARSE_WINDOW_FRACTION = 0.1;

/**
 * Drift that moves more than this many bins between consecutive windows has smeared each
 * window's histogram along its path, and correlating smeared images biases the shifts (a
 * simulation with ~250 nm per 1000-frame window gave ~20 nm errors; with 250-frame windows,
 * the ~4 nm noise floor). Window-averaged samples cannot see drift faster than the windows,
 * so this is a conservative hint, not a guarantee: it flags only gross cases.
 */
export const SMEAR_WARNING_BINS = 10;

export interface LocsRccResult extends RccResult {
  windows: TimeWindow[];
  /** Indices of the windows in `drift` (sparse or unconnected windows are left out). */
  measuredWindows: number[];
  /** Indices of the windows left out for having too few localizations. */
  sparseWindows: number[];
  grid: BinGrid;
  /** The RCC samples (before the fine stage; `drift` when there is none). */
  rccDrift: DriftTrace;
  /** The fine stage, when it ran. */
  refinement?: RefineResult;
  /** The parameters as used (auto ones resolved) and why, for reports and provenance. */
  choices: LocsDriftChoices;
  /** The correlations ran from the windows' points instead of FFTs (registration/pointCorrelation.ts). */
  fromPoints: boolean;
  /** How the samples' standard errors (`drift.sd`) were found (driftUncertainty.ts). */
  uncertainty: LocsUncertainty;
}

/** The pieces of the uncertainty estimate, for reports. */
export type LocsUncertainty =
  { method: 'rcc'; pairSdNm: [number, number, number]; validationNm: [number, number, number] } | { method: 'fine'; pairSdNm: [number, number, number] };

export interface LocsDriftChoices {
  binSizeNm: number;
  windows: number;
  /** Frames, when windows were by frames; 'count' when by localization count. */
  stepFrames: number | 'count';
  windowFrames: number | 'count';
  precision?: PrecisionEstimate;
  /** One or two lines: what was chosen and why. */
  summary: string;
}

/** Validate the options (messages name the parameter as recipes and flags do). */
export function validateLocsRccOptions(o: LocsRccOptions): void {
  checkPositiveOrAuto(o.stepFrames, 'stepFrames', 'frames');
  checkPositiveOrAuto(o.windowFrames, 'windowFrames', 'frames');
  checkPositiveOrAuto(o.binSizeNm, 'binSizeNm', 'nm');
  if (o.windowFrames !== 'auto' && o.stepFrames !== 'auto' && o.windowFrames < o.stepFrames) {
    throw new UsageError(
      `${param('windowFrames')} (${o.windowFrames} frames) is shorter than ${param('stepFrames')} (${o.stepFrames}); the window must be ≥ the step`,
      { param: 'windowFrames' },
    );
  }
  checkTukeySize(o.tukeySize);
  checkShiftMax(o.shiftMaxNm);
  checkRccMethod(o.method);
  checkCorrWindow(o.corrWindow);
}

function checkFinite(v: NumericArray, name: string): void {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw new InputError(`column ${name} has a non-finite value (${v[i]}) at row ${i}; remove or fix such rows first`);
  }
}

/** Counting sort only when the frame span is at most this many frames per localization. */
const COUNTING_SORT_MAX_BUCKETS_PER_ROW = 8;

/** Every k-th value of `v`, from the first (a plain loop: Float64Array.from with a callback is ~15× slower). */
function everyKth(v: NumericArray, k: number): Float64Array {
  const out = new Float64Array(Math.ceil(v.length / k));
  for (let i = 0, j = 0; i < out.length; i++, j += k) out[i] = v[j];
  return out;
}

function maxOf(v: NumericArray): number {
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) if (v[i] > hi) hi = v[i];
  return hi;
}

/**
 * Rows ordered by frame. Frames are integer-valued, so a counting sort is O(rows + frames);
 * already-sorted input (the usual case) is used as it is.
 */
function sortByFrame(cols: LocColumns): { x: NumericArray; y: NumericArray; z?: NumericArray; t: NumericArray } {
  const { t } = cols;
  let sorted = true;
  for (let i = 1; i < t.length; i++) {
    if (t[i] < t[i - 1]) {
      sorted = false;
      break;
    }
  }
  if (sorted) return cols;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < t.length; i++) {
    lo = Math.min(lo, t[i]);
    hi = Math.max(hi, t[i]);
  }
  const nBuckets = Math.floor(hi) - Math.floor(lo) + 1;
  if (nBuckets > COUNTING_SORT_MAX_BUCKETS_PER_ROW * t.length + 1024) {
    // Few localizations over a huge frame span: a comparison sort needs no per-frame memory.
    const order = Array.from({ length: t.length }, (_, i) => i).sort((a, b) => t[a] - t[b]);
    const pick = (v: NumericArray) => Float64Array.from(order, (i) => v[i]);
    return { x: pick(cols.x), y: pick(cols.y), z: cols.z && pick(cols.z), t: pick(t) };
  }
  const counts = new Uint32Array(nBuckets + 1);
  for (let i = 0; i < t.length; i++) counts[Math.floor(t[i]) - Math.floor(lo) + 1]++;
  for (let b = 1; b <= nBuckets; b++) counts[b] += counts[b - 1];
  const order = new Uint32Array(t.length);
  for (let i = 0; i < t.length; i++) order[counts[Math.floor(t[i]) - Math.floor(lo)]++] = i;
  const take = (v: NumericArray) => {
    const out = new Float64Array(v.length);
    for (let i = 0; i < order.length; i++) out[i] = v[order[i]];
    return out;
  };
  return { x: take(cols.x), y: take(cols.y), z: cols.z && take(cols.z), t: take(t) };
}

/** First index with t[i] ≥ value in an ascending array. */
function lowerBound(t: NumericArray, value: number): number {
  let a = 0;
  let b = t.length;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (t[m] < value) a = m + 1;
    else b = m;
  }
  return a;
}

/**
 * Windows start at t.min() every `step` frames and span `window` frames, clipped at t.max();
 * a localization belongs to a window when start ≤ t < end; the sample time is (start + end)/2.
 */
export function makeTimeWindows(t: NumericArray, stepFrames: number, windowFrames: number): TimeWindow[] {
  const tMin = t[0];
  const tMax = t[t.length - 1];
  const windows: TimeWindow[] = [];
  for (let start = tMin; start < tMax; start += stepFrames) {
    const end = Math.min(start + windowFrames, tMax);
    windows.push({ startFrame: start, endFrame: end, from: lowerBound(t, start), to: lowerBound(t, end) });
  }
  return windows;
}

/**
 * The drift of a localization table: RCC over time windows, then (unless `refine: false`) the
 * fine stage. Every option may be left out: `estimateDriftFromLocs(table)` chooses everything
 * from the data (LOCS_DRIFT_DEFAULTS).
 */
export async function estimateDriftFromLocs(
  input: LocInput,
  options: FiducialLocsOptions | AimLocsOptions,
  context?: LocsDriftContext,
): Promise<MarkerMethodResult>;
export async function estimateDriftFromLocs(input: LocInput, options?: Partial<LocsRccOptions>, context?: LocsDriftContext): Promise<LocsRccResult>;
export async function estimateDriftFromLocs(
  input: LocInput,
  partialOptions: Partial<LocsRccOptions> | FiducialLocsOptions | AimLocsOptions = {},
  context: LocsDriftContext = {},
): Promise<LocsRccResult | MarkerMethodResult> {
  // Fiducial markers and AIM (issue 14) have their own estimators (estimateDriftByMarkers.ts).
  if (partialOptions.method === 'fiducial' || partialOptions.method === 'AIM') {
    return estimateDriftByMarkers(input, partialOptions, context);
  }
  return estimateDriftRcc(input, partialOptions, context);
}

export interface LocsDriftContext {
  executor?: CorrelationExecutor;
  progress?: ProgressReporter;
  yieldNow?: () => Promise<void> | undefined;
  /**
   * Called as each phase starts ('rcc', then 'validation' of RCC-alone standard errors or the
   * 'fine' stage) and once at the 'end': lets a caller time the phases (bench/defaults.mjs).
   */
  onPhase?: (phase: 'rcc' | 'validation' | 'fine' | 'end') => void;
}

async function estimateDriftRcc(
  input: LocInput,
  partialOptions: Partial<LocsRccOptions>,
  { executor = inlineExecutor, progress, yieldNow, onPhase }: LocsDriftContext,
): Promise<LocsRccResult> {
  onPhase?.('rcc');
  const options: LocsRccOptions = { ...LOCS_DRIFT_DEFAULTS, ...stripUndefined(partialOptions) };
  validateLocsRccOptions(options);
  const cols = locColumnsOf(input);
  const n = cols.t.length;
  if (n === 0) throw new InsufficientDataError('the table has no localizations');
  for (const [name, v] of [
    ['x', cols.x],
    ['y', cols.y],
    ['t', cols.t],
    ['z', cols.z],
  ] as const) {
    if (v) checkFinite(v, name);
  }
  checkPlausibleLocs(cols);
  const { x, y, z, t } = sortByFrame(cols);
  const tMin = t[0];
  const tMax = t[n - 1];
  if (tMin === tMax) {
    throw new InsufficientDataError(`every localization is in frame ${tMin}: drift needs localizations from at least two time windows`);
  }
  const refine = options.refine !== false;
  const userBreaks = Array.isArray(options.breaks) ? (options.breaks as number[]) : [];
  const needPrecision = options.binSizeNm === 'auto' || refine;
  const findPrecision = () =>
    options.precision ??
    estimatePrecision(
      'columns' in input ? input.columns : new Map(Object.entries({ x, y, t, ...(z ? { z } : {}) })),
      'columns' in input ? input.metadata : undefined,
    );
  const precision = needPrecision ? findPrecision() : undefined;
  const binSizeNm = options.binSizeNm === 'auto' ? chooseBinSize(precision!.lateralNm, refine) : options.binSizeNm;
  const byCount = options.stepFrames === 'auto' && options.windowFrames === 'auto';
  const stepFrames = options.stepFrames === 'auto' ? (options.windowFrames as number) : options.stepFrames;
  const windowFrames = options.windowFrames === 'auto' ? stepFrames : options.windowFrames;
  const windows = byCount ? makeCountWindows(t, options.windowCount ?? chooseWindowCount(n, refine), userBreaks) : makeTimeWindows(t, stepFrames, windowFrames);
  if (windows.length < 2) {
    throw new InsufficientDataError(
      byCount
        ? `frames ${tMin}–${tMax} give only one time window; drift needs localizations from at least two`
        : `frames ${tMin}–${tMax} give only ${windows.length} time window with step ${stepFrames}; ` +
            `use a smaller step (at most ${Math.floor((tMax - tMin) / 2)} frames) to get at least two windows`,
    );
  }
  const counts = windows.map((w) => w.to - w.from);
  const median = [...counts].sort((a, b) => a - b)[Math.floor(counts.length / 2)];
  const sparseWindows = counts.flatMap((c, i) => (c < SPARSE_WINDOW_FRACTION * median || c === 0 ? [i] : []));
  if (sparseWindows.length > 0) {
    const list = sparseWindows
      .slice(0, 5)
      .map((i) => `${i} (frames ${windows[i].startFrame}–${windows[i].endFrame}: ${counts[i]})`)
      .join(', ');
    progress?.warn?.(
      `${sparseWindows.length} of ${windows.length} time windows hold fewer than ${SPARSE_WINDOW_FRACTION * 100}% of the median ` +
        `${median} localizations and are left out: ${list}${sparseWindows.length > 5 ? ', …' : ''}`,
    );
  }
  const sparse = new Set(sparseWindows);

  const useZ = !!z && !options.flattenZ;
  // With the fine stage, RCC only brings the lateral drift within its reach: a 3D RCC costs
  // ~50× a 2D one (the z axis of every FFT), and the fine stage finds z itself (refineDrift.ts).
  const rccZ = useZ && !refine;
  const grid = computeBinGrid(x, y, rccZ ? z : undefined, binSizeNm, !rccZ);
  const [bx, by, bz] = grid.bins;
  const histogramText = () => {
    const extent = (v: NumericArray, o: number) => `${(maxOf(v) - o).toPrecision(3)} nm`;
    return (
      `the RCC histogram of ${bx} × ${by}${bz > 1 ? ` × ${bz}` : ''} bins (binsize ${binSizeNm} nm over a field of ` +
      `${extent(x, grid.origin[0])} × ${extent(y, grid.origin[1])}${bz > 1 ? ` × ${extent(z!, grid.origin[2])}` : ''})`
    );
  };
  const histogramFix = `give a larger ${param('binSizeNm')}, or remove the localizations far outside the field`;
  checkAllocation(registrationBytes({ nx: bx, ny: by, nz: bz }), histogramText(), histogramFix);
  const plan = createRegistrationPlan({ nx: bx, ny: by, nz: bz });
  checkAllocation(registrationBytes(plan.fftShape), `${histogramText()}, padded for the FFT`, histogramFix);
  const { nx, ny } = plan.fftShape;
  const tukeys = grid.bins.map((b) => (b > 1 ? tukeyWindow(b, options.tukeySize) : null));

  const fillGrid = (i: number, out: Float32Array) => {
    const w = windows[i];
    histogramInto(grid, x, y, rccZ ? z : undefined, w.from, w.to, out, nx, ny);
    // Separable Tukey window over the data region, every axis longer than 1.
    for (let iz = 0; iz < bz; iz++) {
      const wz = tukeys[2] ? tukeys[2][iz] : 1;
      for (let iy = 0; iy < by; iy++) {
        const wzy = wz * (tukeys[1] ? tukeys[1][iy] : 1);
        const row = (iz * ny + iy) * nx;
        const tx = tukeys[0];
        for (let ix = 0; ix < bx; ix++) out[row + ix] *= wzy * (tx ? tx[ix] : 1);
      }
    }
  };

  // The same Tukey-weighted histograms as points, for the executor's sparse route (3D grids).
  const pointCache = new Map<number, BinnedPoints>();
  const points = (i: number): BinnedPoints => {
    let p = pointCache.get(i);
    if (!p) {
      p = binPoints(grid, x, y, rccZ ? z : undefined, windows[i].from, windows[i].to, tukeys);
      pointCache.set(i, p);
    }
    return p;
  };

  const allPairs = buildPairs(windows.length, options.method, resolveCorrWindow(options.corrWindow, windows.length));
  const pairs = Int32Array.from(
    Array.from({ length: allPairs.length / 2 }, (_, p) => [allPairs[2 * p], allPairs[2 * p + 1]])
      .filter(([i, j]) => !sparse.has(i) && !sparse.has(j))
      .flat(),
  );
  const result = await executor.run(
    { plan, count: windows.length, fillGrid, pairs, keepCorrelations: options.keepCorrelations, points, windowSizes: counts },
    progress,
  );
  // Displacement d (pixels) of window j relative to i → correction increment −d·binsize (nm).
  const nPairs = pairs.length / 2;
  const pairShiftsNm = new Float64Array(3 * nPairs);
  for (let p = 0; p < 3 * nPairs; p++) pairShiftsNm[p] = -result.shifts[p] * binSizeNm;
  const failed = pairs.length / 2 - countFinite(pairShiftsNm);
  if (failed > 0) progress?.warn?.(`${failed} of ${nPairs} window pairs gave no correlation peak and were left out`);
  const diagnostics = diagnosePairs(result.shifts, result.secondaryRatios, plan);
  for (const w of pairWarnings(diagnostics, 'localizations')) progress?.warn?.(w);
  const solution = solveDrift(windows.length, pairs, pairShiftsNm, { method: options.method, shiftMax: options.shiftMaxNm });
  // Windows no kept pair reaches were not measured: leave them out of the trace (the spline
  // bridges them) rather than report a guess as a sample.
  const reached = new Uint8Array(windows.length);
  for (let p = 0; p < nPairs; p++) {
    if (solution.used[p]) reached[pairs[2 * p]] = reached[pairs[2 * p + 1]] = 1;
  }
  const measuredWindows = windows.flatMap((_, i) => (reached[i] ? [i] : []));
  if (measuredWindows.length < 2) {
    throw new InsufficientDataError(
      `only ${measuredWindows.length} of ${windows.length} time windows could be registered; ` +
        `use longer windows (window, step) or larger bins (binsize) so each window holds more localizations`,
    );
  }
  const unreached = windows.length - measuredWindows.length - sparseWindows.length;
  if (unreached > 0) progress?.warn?.(`${unreached} time windows gave no usable correlation with any other and are left out`);
  // The first measured window is the reference: its drift is 0 by construction.
  const pick = (a: Float64Array) => Float64Array.from(measuredWindows, (i) => a[i] - a[measuredWindows[0]]);
  const drift: DriftTrace = {
    t: Float64Array.from(measuredWindows, (i) => windows[i].sampleTime ?? (windows[i].startFrame + windows[i].endFrame) / 2),
    x: pick(solution.drift[0]),
    y: pick(solution.drift[1]),
    z: rccZ ? pick(solution.drift[2]) : new Float64Array(measuredWindows.length),
  };
  let fastest = 0;
  for (let k = 1; k < drift.t.length; k++) {
    fastest = Math.max(fastest, Math.hypot(drift.x[k] - drift.x[k - 1], drift.y[k] - drift.y[k - 1], drift.z[k] - drift.z[k - 1]));
  }
  if (fastest > SMEAR_WARNING_BINS * binSizeNm && !refine) {
    const typical = byCount ? Math.round((tMax - tMin) / windows.length) : stepFrames;
    progress?.warn?.(
      `the drift moves up to ${fastest.toFixed(0)} nm between consecutive windows (more than ${SMEAR_WARNING_BINS} bins of ` +
        `${binSizeNm} nm): each window's localizations are smeared along the drift, which biases the result; ` +
        `use a shorter step and window (e.g. ${Math.max(1, Math.round(typical / 4))} frames) or the fine stage`,
    );
  }
  if (userBreaks.length > 0) drift.breaks = Float64Array.from(userBreaks);
  const sizes = windows.map((w) => w.to - w.from).sort((a, b) => a - b);
  const medianLocs = sizes[sizes.length >> 1];
  if (medianLocs < FEW_WINDOW_LOCS) {
    progress?.warn?.(
      `the time windows hold a median of only ${medianLocs} localizations (fewer than ${FEW_WINDOW_LOCS}): RCC's peaks are unreliable; ` +
        (byCount ? 'the data are too sparse for more windows' : `use longer windows (${param('stepFrames')}, ${param('windowFrames')}) or leave them at auto`),
    );
  }
  const usedPairs = solution.used.reduce((a, b) => a + b, 0);
  if (nPairs > 0 && usedPairs < nPairs / 2) {
    progress?.warn?.(
      `RCC rejected ${nPairs - usedPairs} of ${nPairs} window pairs: the windows disagree, so the drift is uncertain; ` +
        `use longer windows or larger bins, or check the data for jumps (${param('breaks')})`,
    );
  }
  const lsSd = leastSquaresSd(windows.length, pairs, pairShiftsNm, solution.used, solution.drift, measuredWindows);
  let refinement: RefineResult | undefined;
  let finalDrift = drift;
  const rccUncertainty = { method: 'rcc' as const, pairSdNm: lsSd.pairSdNm, validationNm: [NaN, NaN, NaN] as [number, number, number] };
  let uncertainty: LocsUncertainty = rccUncertainty;
  if (!refine) drift.sd = lsSd.sd;
  if (!refine && options.validateUncertainty !== false) {
    onPhase?.('validation');
    // Validation (driftUncertainty.ts): windows of the same size registered once against all
    // other localizations; their RMS difference from RCC sees each window's own error.
    try {
      // Its cost is one registration pass over the rows: on large tables every k-th row does
      // (the windows' own error is what is measured; the check's own noise is in its sd).
      const every = Math.ceil(n / VALIDATION_MAX_LOCS);
      const thin = (v: NumericArray): NumericArray => (every > 1 ? everyKth(v, every) : v);
      const check = await refineDrift({ x: thin(x), y: thin(y), z: rccZ ? thin(z) : undefined, t: thin(t) }, drift, {
        ...(() => {
          const p = precision ?? findPrecision();
          return { precisionNm: p.lateralNm, precisionZNm: p.axialNm };
        })(),
        segmentLocs: Math.max(1, Math.round(n / every / windows.length)),
        maxIterations: 1,
        skipCapture: true,
        breaks: userBreaks.length ? userBreaks : 'none',
        yieldNow,
      });
      const diff = rmsDifference(check.drift, drift);
      const own = (['x', 'y', 'z'] as const).map((a) => rms(check.drift.sd![a]));
      const extra = diff.map((d, k) => Math.sqrt(Math.max(0, d * d - own[k] * own[k] - meanSquare(lsSd.sd[(['x', 'y', 'z'] as const)[k]]))));
      if (!rccZ) extra[2] = 0;
      drift.sd = addInQuadrature(lsSd.sd, uniformSd(drift.t.length, extra as [number, number, number]));
      rccUncertainty.validationNm = diff;
    } catch (e) {
      if (!(e instanceof InsufficientDataError)) throw e;
      progress?.warn?.(
        'the drift uncertainty comes from the pair residuals alone (the validation registration found too few peaks): ' +
          "it misses each window's own error and is likely too small",
      );
    }
  }
  if (refine) {
    onPhase?.('fine');
    const ro = typeof options.refine === 'object' ? options.refine : {};
    refinement = await refineDrift({ x, y, z: useZ ? z : undefined, t }, drift, {
      precisionNm: precision!.lateralNm,
      precisionZNm: precision!.axialNm,
      segmentLocs: ro.segmentLocs,
      toleranceNm: ro.toleranceNm,
      maxIterations: ro.maxIterations,
      breaks: options.breaks,
      progress,
      yieldNow,
    });
    finalDrift = refinement.drift;
    finalDrift.sd = calibrateSampleSd(finalDrift, refinement.drift.sd as AxisSd);
    finalDrift.refined = true;
    uncertainty = { method: 'fine', pairSdNm: lsSd.pairSdNm };
    drift.sd = lsSd.sd;
    const weak = refinement.weakSegments.length;
    if (weak > refinement.segments.length * WEAK_SEGMENT_FRACTION) {
      progress?.warn?.(
        `${weak} of ${refinement.segments.length} fine-stage segments had no clear peak and were left out: the data are sparse for ` +
          'segments this short; the drift there is bridged',
      );
    }
  }
  const precisionText = precision ? `a median precision of ${precision.lateralNm.toFixed(1)} nm (${precision.source})` : '';
  const windowText = byCount
    ? `${windows.length} windows of ~${Math.round(n / windows.length)} localizations`
    : `${windows.length} windows of ${windowFrames} frames every ${stepFrames}`;
  let summary = `bin ${binSizeNm} nm${options.binSizeNm === 'auto' ? ` from ${precisionText}` : ''}; ${windowText}`;
  if (refinement) {
    const segFrames = Math.round((tMax - tMin + 1) / refinement.segments.length);
    summary +=
      `; refined in ${refinement.segments.length} segments of ~${segFrames} frames (${refinement.iterations} passes, last change ${refinement.lastChangeNm.toFixed(2)} nm)` +
      (refinement.detectedBreaks.length ? `; jumps found at frames ${refinement.detectedBreaks.join(', ')}` : '');
  }
  onPhase?.('end');
  const choices: LocsDriftChoices = {
    binSizeNm,
    windows: windows.length,
    stepFrames: byCount ? 'count' : stepFrames,
    windowFrames: byCount ? 'count' : windowFrames,
    precision,
    summary,
  };
  return {
    uncertainty,
    drift: finalDrift,
    rccDrift: drift,
    refinement,
    choices,
    windows,
    measuredWindows,
    sparseWindows,
    grid,
    plan,
    pairs,
    pairShiftsNm,
    solution,
    correlations: result.correlations,
    regionShape: result.regionShape,
    fromPoints: !!result.fromPoints,
    diagnostics,
  };
}

/** The validation of RCC-alone standard errors registers at most about this many rows. */
export const VALIDATION_MAX_LOCS = 250_000;
/** Windows with fewer localizations than this (median) give unreliable RCC peaks: say so. */
export const FEW_WINDOW_LOCS = 300;
/** More than this fraction of fine segments without a peak is worth a warning. */
const WEAK_SEGMENT_FRACTION = 0.2;

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function locColumnsOf(input: LocInput): LocColumns {
  if (!('columns' in input)) return input;
  const get = (c: string) => input.columns.get(c);
  const x = get('x');
  const y = get('y');
  const t = get('t');
  if (!x || !y || !t) {
    const missing = ['x', 'y', 't'].filter((c) => !get(c));
    throw new InputError(`the table has no ${missing.join(', ')} column (columns: ${[...input.columns.keys()].join(', ')})`);
  }
  return { x, y, z: get('z'), t };
}

function meanSquare(v: Float64Array): number {
  let s = 0;
  for (const a of v) s += a * a;
  return v.length ? s / v.length : 0;
}

function rms(v: Float64Array): number {
  return Math.sqrt(meanSquare(v));
}

function countFinite(shifts: Float64Array): number {
  let c = 0;
  for (let p = 0; p < shifts.length; p += 3) if (Number.isFinite(shifts[p])) c++;
  return c;
}
