/**
 * Image_RCC: drift of an image stack by redundant cross-correlation of its time points
 * (Wang et al., Opt. Express 22:15982, 2014, doi:10.1364/OE.22.015982; SPEC §4.5). The image
 * front end of the registration core shared with Locs_RCC: one image (or volume) per time
 * point instead of one histogram per time window; the same pairs, peak and solve.
 *
 * No binning and no Tukey window here: that is the pre-filter's job (prefilterStack,
 * downsampleStack). Frames are read one at a time through `stack.readFrame` when the
 * executor asks for them, so the stack itself is never held in memory.
 */
import { checkCorrWindow, checkRccMethod, checkShiftMax } from '../parameters.js';
import { InputError, InsufficientDataError } from '../errors.js';
import { frameTimes } from '../image/frameTimes.js';
import { inlineExecutor, type CorrelationExecutor } from '../registration/correlationExecutor.js';
import { diagnosePairs, pairWarnings } from '../registration/pairDiagnostics.js';
import { createRegistrationPlan } from '../registration/registrar.js';
import type { DriftTrace, ImageStack, ProgressReporter } from '../types.js';
import { buildPairs, resolveCorrWindow, solveDrift, type RccMethod, type RccResult } from './solveDrift.js';
import { isPrefilteredStack } from '../image/prefilterStack.js';
import { isThinVolume } from '../image/clipFilter.js';
import { addInQuadrature, AXES, leastSquaresSd, differenceScale, uniformSd } from './driftUncertainty.js';

import type { GridPreparation } from '../registration/prepareGrid.js';
import { param } from '../messageParams.js';

export interface ImageRccOptions {
  /** Pair scheme. SPEC default 'RCC' (`method`). */
  method: RccMethod;
  /**
   * RCC rejects pair rows whose residual exceeds this, nm; 'auto' = AUTO_SHIFT_MAX_FACTOR × the
   * median residual (solveDrift.ts). SPEC default 5 (`shift_max`, pixels in the original).
   */
  shiftMaxNm: number | 'auto';
  /**
   * Pairs (i, j) with j − i ≤ corrWindow (all pairs when ≤ 0); 'auto' = every pair up to
   * AUTO_PAIR_BUDGET pairs, else the widest window within it (at least 5). SPEC default 5 (`corr_window`).
   */
  corrWindow: number | 'auto';
  /** Keep every pair's thresholded correlation image (debug output). Default off. */
  keepCorrelations?: boolean;
}

/** What `estimateDriftFromImages(stack)` uses for an option not given: the command line's defaults. */
export const IMAGE_RCC_DEFAULTS: Readonly<ImageRccOptions> = { method: 'RCC', shiftMaxNm: 'auto', corrWindow: 'auto' };

/** Drift at each time point's sample time (frames, binning-aware). */
export type ImageRccResult = RccResult & {
  /** The corr_window used (0 = all pairs), resolved when 'auto'. */
  corrWindow: number;
};

/** Validate the options (core/parameters.ts: the checks Locs_RCC shares). */
export function validateImageRccOptions(o: ImageRccOptions): void {
  checkRccMethod(o.method);
  checkShiftMax(o.shiftMaxNm);
  checkCorrWindow(o.corrWindow);
}

/** Check that `stack` can be registered: at least two time points of at least 2 × 2 pixels, a usable voxel size. */
export function validateStackForRcc(stack: ImageStack): void {
  const { width, height, depth, frames } = stack;
  if (frames < 2) {
    throw new InsufficientDataError(
      `the image has ${frames} time point${frames === 1 ? '' : 's'} (${width} × ${height}${depth > 1 ? ` × ${depth}` : ''} pixels); ` +
        `drift needs a time series of at least two frames — if the pages of a TIFF are time points but were read as z planes, ` +
        `fix the ImageJ description (frames=N) or write the stack with its time axis`,
    );
  }
  if (width < 2 || height < 2) {
    throw new InputError(`frames are ${width} × ${height} pixels; registration needs at least 2 × 2 pixels per frame`);
  }
  const [vx, vy, vz] = stack.voxelSizeNm;
  for (const [axis, v] of [
    ['x', vx],
    ['y', vy],
    ['z', vz],
  ] as const) {
    if (axis === 'z' && depth === 1) continue;
    if (!(v > 0) || !Number.isFinite(v)) {
      throw new InputError(
        `voxel size ${axis} is ${v} nm; it must be a positive number (give the voxel size in nm: ${param('voxelSizeNm')}, e.g. 100,100,200)`,
      );
    }
  }
}

/** Standard error floor for the sub-pixel peak's bias (pixels); see estimateDriftFromImages. */
export const PEAK_BIAS_FLOOR_PX = 0.01;

export async function estimateDriftFromImages(
  stack: ImageStack,
  given: Partial<ImageRccOptions> = {},
  { executor = inlineExecutor, progress }: { executor?: CorrelationExecutor; progress?: ProgressReporter } = {},
): Promise<ImageRccResult> {
  const options: ImageRccOptions = { ...IMAGE_RCC_DEFAULTS, ...given };
  validateImageRccOptions(options);
  validateStackForRcc(stack);
  const { width, height, depth, frames } = stack;
  const plan = createRegistrationPlan({ nx: width, ny: height, nz: depth }, { linearZ: isThinVolume(depth) });
  const { nx, ny } = plan.fftShape;

  // A pre-filtered stack hands its raw frames to the executor with the filter described as
  // data: the workers filter (in parallel) instead of the main thread, frame after frame.
  const deferred = isPrefilteredStack(stack) ? stack.prefilter : undefined;
  const frameSource = deferred ? deferred.source : stack;
  const prepare: GridPreparation | undefined = deferred && { kind: 'clipFilter', params: deferred.params, shape: [width, height, depth] };
  const fillGrid = async (i: number, grid: Float32Array) => {
    const frame = await frameSource.readFrame(i);
    if (frame.length !== width * height * depth) {
      throw new InputError(`frame ${i} has ${frame.length} values, expected ${width} × ${height} × ${depth} = ${width * height * depth}`);
    }
    for (let z = 0; z < depth; z++) {
      for (let y = 0; y < height; y++) {
        const src = (z * height + y) * width;
        const dst = (z * ny + y) * nx;
        for (let x = 0; x < width; x++) {
          const v = frame[src + x];
          if (!Number.isFinite(v)) {
            throw new InputError(`frame ${i} has a non-finite value (${v}) at x=${x}, y=${y}, z=${z}; replace NaN/Inf pixels (e.g. with the background) first`);
          }
          grid[dst + x] = v;
        }
      }
    }
  };

  const corrWindow = resolveCorrWindow(options.corrWindow, frames);
  const pairs = buildPairs(frames, options.method, corrWindow);
  const result = await executor.run({ plan, count: frames, fillGrid, prepare, pairs, keepCorrelations: options.keepCorrelations }, progress);
  // Displacement d (pixels) of time point j relative to i → correction increment −d·voxel (nm).
  const voxel = depth > 1 ? stack.voxelSizeNm : [stack.voxelSizeNm[0], stack.voxelSizeNm[1], 0];
  const nPairs = pairs.length / 2;
  const pairShiftsNm = new Float64Array(3 * nPairs);
  for (let p = 0; p < nPairs; p++) {
    for (let a = 0; a < 3; a++) pairShiftsNm[3 * p + a] = -result.shifts[3 * p + a] * voxel[a];
  }
  let failed = 0;
  for (let p = 0; p < nPairs; p++) if (!Number.isFinite(pairShiftsNm[3 * p])) failed++;
  if (failed > 0) progress?.warn?.(`${failed} of ${nPairs} frame pairs gave no correlation peak and were left out (blank or constant frames?)`);
  const diagnostics = diagnosePairs(result.shifts, result.secondaryRatios, plan);
  for (const w of pairWarnings(diagnostics, 'images')) progress?.warn?.(w);
  const solution = solveDrift(frames, pairs, pairShiftsNm, { method: options.method, shiftMax: options.shiftMaxNm });
  if (!solution.fullRank) {
    progress?.warn?.('the measured pairs do not connect every time point; the drift of unconnected time points is a minimum-norm guess');
  }
  const drift: DriftTrace = {
    t: frameTimes(stack.metadata, frames),
    x: solution.drift[0],
    y: solution.drift[1],
    z: depth > 1 ? solution.drift[2] : new Float64Array(frames),
  };
  // Standard errors (driftUncertainty.ts): the pair residuals' least-squares part, plus what the
  // scatter of consecutive time points shows beyond it (each frame's own noise).
  const all = Array.from({ length: frames }, (_, i) => i);
  const ls = leastSquaresSd(frames, pairs, pairShiftsNm, solution.used, solution.drift, all);
  const extra = AXES.map((a) => {
    if (drift[a].every((v) => v === 0)) return 0;
    const total = differenceScale(drift.t, drift[a], new Float64Array(frames).fill(1));
    let ms = 0;
    for (const v of ls.sd[a]) ms += v * v;
    return Number.isFinite(total) ? Math.sqrt(Math.max(0, total * total - ms / frames)) : 0;
  }) as [number, number, number];
  // The sub-pixel peak's own bias (≤ 0.02 px on Fourier-shifted test images) is smooth in time,
  // so no scatter shows it: a floor of half that, per axis, in quadrature.
  const floor = voxel.map((v) => PEAK_BIAS_FLOOR_PX * v) as [number, number, number];
  drift.sd = addInQuadrature(addInQuadrature(ls.sd, uniformSd(frames, extra)), uniformSd(frames, floor));
  if (depth === 1) drift.sd.z.fill(0);
  return { drift, plan, pairs, pairShiftsNm, solution, correlations: result.correlations, regionShape: result.regionShape, corrWindow, diagnostics };
}
