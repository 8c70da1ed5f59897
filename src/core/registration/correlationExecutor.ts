/**
 * Where the correlations run. The pipeline describes the work (a registration plan, how to
 * fill grid i, which pairs to correlate); an executor runs it. `inlineExecutor` is
 * the single-threaded reference (the browser runs a pool of workers on it); the Node CLI has a worker-pool
 * executor with an optional disk cache for spectra (src/node/workerExecutor.ts).
 */
import { createYielder } from './yieldNow.js';
import type { ProgressReporter } from '../types.js';
import { loadPffft } from '../fft/pffft.js';
import { Registrar, type RegistrationPlan } from './registrar.js';
import { prepareGrid, type GridPreparation } from './prepareGrid.js';
import { COARSE_FACTOR, COARSE_MIN_RANGE, PointRegistrar, type BinnedPoints } from './pointCorrelation.js';

export interface CorrelationTask {
  plan: RegistrationPlan;
  /** Number of grids (time windows or time points). */
  count: number;
  /** Fill grid `index` (zeroed, in the plan's FFT shape, x fastest) with the data to register. */
  fillGrid(index: number, grid: Float32Array): void | Promise<void>;
  /** Pairs [i0, j0, i1, j1, …] to correlate. */
  pairs: Int32Array;
  /** Applied to every filled grid before its FFT, wherever the executor runs the FFT. */
  prepare?: GridPreparation;
  /** Keep each pair's thresholded correlation region (debug output). */
  keepCorrelations?: boolean;
  /**
   * The grids' content as points (localization tables): lets an executor correlate sparse
   * grids from their points when that is cheaper than their FFTs (pointCorrelation.ts).
   */
  points?: (index: number) => BinnedPoints;
  /** Number of points in each grid, when `points` is given (for a quick cost guess). */
  windowSizes?: ArrayLike<number>;
}

export interface CorrelationResult {
  /** Per pair: displacement of j relative to i in pixels (x, y, z), origin-corrected; NaN = no measurement. */
  shifts: Float64Array;
  /** Per grid: the autocorrelation peak (x, y, z) in shift pixels (≈ 0). */
  origins: Float64Array;
  /** Per pair: the peak's ambiguity (findPeak's secondaryRatio); NaN = no measurement. */
  secondaryRatios: Float64Array;
  /** Per pair (when asked): correlation region, thresholded at the peak mask's level, regionShape. */
  correlations?: Float32Array[];
  regionShape: [number, number, number];
  /** True when the correlations ran from the grids' points (pointCorrelation.ts), not FFTs. */
  fromPoints?: boolean;
}

export interface CorrelationExecutor {
  run(task: CorrelationTask, progress?: ProgressReporter): Promise<CorrelationResult>;
  /**
   * Start the executor's threads now (e.g. while a file is read), so the first run does not wait
   * for them. Optional; executors without threads leave it out.
   */
  warm?(): void;
}

/** Thresholded copy of a correlation region: values below min + 0.75·(max − min) set to 0. */
export function thresholdCorrelation(region: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of region) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const thr = lo + 0.75 * (hi - lo);
  return region.map((v) => (v >= thr ? v : 0));
}

/** Measured on this project's 2-core machine: ns per candidate point pair, per smoothed voxel·tap, per FFT element·log2. */
const NS_PER_CANDIDATE_PAIR = 1.5;
const NS_PER_SMOOTHING_TAP = 1;
const NS_PER_FFT_ELEMENT_LOG = 2;
/** The quick guess decides alone when it is this many times the FFT route's cost. */
const GUESS_MARGIN = 2;

/**
 * Should the task's correlations run from its points? Compares the cost models of both routes
 * (the FFT route also needs every spectrum in memory or a disk cache). Returns the points
 * route's estimated time (ns) when it is the cheaper one, else null.
 */
export async function prefersPoints(task: CorrelationTask, registrar = new PointRegistrar(task.plan)): Promise<number | null> {
  // The debug output wants whole correlation regions: the FFT route makes them.
  if (!task.points || task.keepCorrelations) return null;
  const { pairs, count, plan } = task;
  const { nx, ny, nz } = plan.fftShape;
  const gridLength = nx * ny * nz;
  const nPairs = pairs.length / 2;
  const fftNs = (count + nPairs) * gridLength * Math.log2(gridLength) * NS_PER_FFT_ELEMENT_LOG;
  // First a guess from the window sizes alone (points spread evenly, which clustering only
  // makes worse for the points route): clear cases need no binning of points.
  const d = plan.dataShape;
  const f = registrar.regionShape.map((r) => (r >= COARSE_MIN_RANGE ? COARSE_FACTOR : 1));
  const coarseVoxels = Math.ceil(d.nx / f[0]) * Math.ceil(d.ny / f[1]) * Math.ceil(d.nz / f[2]);
  const regionFraction = registrar.regionShape.reduce((a, b) => a * b, 1) / (d.nx * d.ny * d.nz);
  const sizes = task.windowSizes;
  if (sizes) {
    let guessNs = 0;
    const coarse = (i: number) => Math.min(sizes[i], coarseVoxels);
    for (let k = 0; k < nPairs; k++) guessNs += coarse(pairs[2 * k]) * coarse(pairs[2 * k + 1]) * regionFraction * NS_PER_CANDIDATE_PAIR;
    if (guessNs > GUESS_MARGIN * fftNs) return null;
  }
  let pointNs = 0;
  // Counting the candidate pairs of many windows takes seconds: the event loop (a Ctrl-C) gets its turns.
  const yieldNow = createYielder();
  const add = async (i: number, j: number) => {
    await yieldNow();
    const w = registrar.work(task.points!(i), task.points!(j));
    pointNs += w.pairs * NS_PER_CANDIDATE_PAIR + w.voxels * 3 * 9 * NS_PER_SMOOTHING_TAP;
  };
  for (let i = 0; i < count; i++) await add(i, i);
  for (let k = 0; k < nPairs; k++) await add(pairs[2 * k], pairs[2 * k + 1]);
  return pointNs < fftNs ? pointNs : null;
}

/** Correlations from the task's points (pointCorrelation.ts), in this thread. */
export async function runPointCorrelations(
  task: CorrelationTask,
  progress?: ProgressReporter,
  registrar = new PointRegistrar(task.plan),
): Promise<CorrelationResult> {
  const points = task.points;
  if (!points) throw new TypeError('runPointCorrelations needs a task with points');
  const { count, pairs } = task;
  const yieldNow = createYielder();
  const origins = new Float64Array(3 * count).fill(NaN);
  progress?.start?.('spectra', count);
  for (let i = 0; i < count; i++) {
    await yieldNow();
    const o = registrar.measure(points(i), points(i));
    if (o) origins.set(o.shift, 3 * i);
    progress?.update?.(i + 1);
  }
  progress?.stop?.();
  const nPairs = pairs.length / 2;
  const shifts = new Float64Array(3 * nPairs).fill(NaN);
  const secondaryRatios = new Float64Array(nPairs).fill(NaN);
  progress?.start?.('correlations', nPairs);
  for (let p = 0; p < nPairs; p++) {
    await yieldNow();
    const i = pairs[2 * p];
    const j = pairs[2 * p + 1];
    const m = registrar.measure(points(i), points(j));
    if (m && Number.isFinite(origins[3 * i])) {
      for (let a = 0; a < 3; a++) shifts[3 * p + a] = m.shift[a] - origins[3 * i + a];
      secondaryRatios[p] = m.secondaryRatio;
    }
    progress?.update?.(p + 1);
  }
  progress?.stop?.();
  return { shifts, origins, secondaryRatios, regionShape: registrar.regionShape, fromPoints: true };
}

/** Single-threaded executor: every spectrum in memory (or the points route when cheaper). */
export const inlineExecutor: CorrelationExecutor = {
  async run(task, progress) {
    if (task.points) {
      const pr = new PointRegistrar(task.plan);
      if ((await prefersPoints(task, pr)) !== null) return runPointCorrelations(task, progress, pr);
    }
    const registrar = new Registrar(task.plan, await loadPffft());
    try {
      const { count, pairs } = task;
      const grid = new Float32Array(registrar.fft.gridLength);
      const spectra: Float32Array[] = [];
      const origins = new Float64Array(3 * count).fill(NaN);
      const yieldNow = createYielder();
      progress?.start?.('spectra', count);
      for (let i = 0; i < count; i++) {
        await yieldNow();
        grid.fill(0);
        await task.fillGrid(i, grid);
        if (task.prepare) prepareGrid(task.prepare, grid, task.plan.fftShape);
        const spec = new Float32Array(registrar.fft.spectrumLength);
        registrar.forward(grid, spec);
        spectra.push(spec);
        const o = registrar.peak(spec, spec);
        if (o) origins.set(o, 3 * i);
        progress?.update?.(i + 1);
      }
      progress?.stop?.();
      const nPairs = pairs.length / 2;
      const shifts = new Float64Array(3 * nPairs).fill(NaN);
      const secondaryRatios = new Float64Array(nPairs).fill(NaN);
      const correlations: Float32Array[] | undefined = task.keepCorrelations ? [] : undefined;
      progress?.start?.('correlations', nPairs);
      for (let p = 0; p < nPairs; p++) {
        await yieldNow();
        const i = pairs[2 * p];
        const j = pairs[2 * p + 1];
        const m = registrar.measure(spectra[i], spectra[j]);
        if (m && Number.isFinite(origins[3 * i])) {
          for (let a = 0; a < 3; a++) shifts[3 * p + a] = m.shift[a] - origins[3 * i + a];
          secondaryRatios[p] = m.secondaryRatio;
        }
        if (correlations) correlations.push(thresholdCorrelation(registrar.correlationRegion(spectra[i], spectra[j])));
        progress?.update?.(p + 1);
      }
      progress?.stop?.();
      return { shifts, origins, secondaryRatios, correlations, regionShape: registrar.regionShape };
    } finally {
      registrar.dispose();
    }
  },
};
