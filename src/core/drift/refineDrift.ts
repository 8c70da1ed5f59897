/**
 * The fine drift stage after RCC (issue 10): short segments of the acquisition are registered
 * against a drift-corrected reference built from all OTHER localizations (leave-one-out, so a
 * segment is never pulled toward itself — the flaw of AIM's second round in Picasso and
 * webSMLM), searched only near the current drift, and the whole is repeated until the drift
 * changes by less than a small fraction of a nanometre. Segments are short (of the order of
 * 100 frames at typical densities), so drift faster than RCC's windows is resolved; sudden
 * stage jumps are detected (or given) and the drift model breaks there instead of ringing.
 *
 * Registration of a segment maximises C(δ) = Σ_i R(p_i + δ) over its localizations i, with p_i
 * the positions corrected by the current drift and R the Gaussian-smoothed density of the other
 * localizations (densityGrid.ts) — a cross-correlation of the segment's points with the
 * reference, evaluated only where it is needed. The peak is climbed on the 3×3 grid of
 * one-bin steps and located to a fraction of a bin by a least-squares quadratic. Its standard
 * error is the sandwich estimate H⁻¹ (Σ g_i g_iᵀ) H⁻¹ of the per-localization gradients g_i
 * and the peak's curvature H, later scaled by the scatter of the samples (autoSmoothing).
 */
import { checkAllocation } from '../memoryLimit.js';
import { InsufficientDataError, UsageError } from '../errors.js';
import type { DriftTrace, NumericArray, ProgressReporter } from '../types.js';
import { minMax } from '../histogram/binGrid.js';
import { DensityGrid, OwnCells } from './densityGrid.js';
import { param } from '../messageParams.js';

export interface RefineOptions {
  /** Lateral localization precision (nm), from the data (autoParameters.ts). */
  precisionNm: number;
  /** Axial precision (nm) for 3D. */
  precisionZNm?: number;
  /** Localizations per segment; 'auto': SEGMENT_TARGET_LOCS (never shorter than MIN_SEGMENT_FRAMES). */
  segmentLocs?: number | 'auto';
  /** Frames at which the drift may jump: explicit, 'auto' (detected) or 'none'. @default 'auto' */
  breaks?: readonly number[] | 'auto' | 'none';
  /**
   * Stop when the RMS change of the samples is below this (nm). @default 'auto': TOLERANCE_NM, or
   * TOLERANCE_PER_SD × the samples' median standard error when that is larger (sparse data).
   */
  toleranceNm?: number | 'auto';
  /** At most this many passes. @default 10 */
  maxIterations?: number;
  /**
   * Skip the first, coarse pass that catches a far-off coarse drift: for a single check of a
   * drift already close (the RCC validation of driftUncertainty.ts). @default false
   */
  skipCapture?: boolean;
  progress?: ProgressReporter;
  /** Cancellation / event-loop yield between segments (see registration/yieldNow.ts). */
  yieldNow?: () => Promise<void> | undefined;
}

export interface RefineSegment {
  startFrame: number;
  /** Exclusive. */
  endFrame: number;
  from: number;
  to: number;
  /** Mean frame of the segment's localizations: the sample time. */
  t: number;
}

export interface RefineResult {
  /** Drift samples (correction to add, nm) at the segments' mean frames, with `breaks` and `sd`. */
  drift: DriftTrace;
  segments: RefineSegment[];
  /** Segments without a clear peak (left out of `drift`). */
  weakSegments: number[];
  breaks: number[];
  /** Breaks found in the data (a subset of `breaks`). */
  detectedBreaks: number[];
  iterations: number;
  /** RMS change of the samples in the last pass (nm). */
  lastChangeNm: number;
  binNm: number;
  kernelNm: number;
}

/** The fine stage stops when its samples change by less than this RMS (nm)… */
export const TOLERANCE_NM = 0.05;
/**
 * …or by less than this fraction of their median standard error, when that is larger: a change
 * far below the noise of the samples changes nothing a user can see (sparse data, whose samples
 * are uncertain by nanometres, otherwise pass after pass for hundredths).
 */
export const TOLERANCE_PER_SD = 0.1;

/** Localizations per segment at 'auto': a few hundred give a sub-nm to nm peak at 10–20 nm precision. */
export const SEGMENT_TARGET_LOCS = 400;
/**
 * A segment reads at most about this many times the target localizations (every k-th of them):
 * segments of very dense data, at their minimum length, hold several times the target, and the
 * rest only sharpen a peak already far below the localization precision.
 */
export const READ_PER_TARGET = 2;
/** Segments are never shorter than this (frames): dense data gain nothing from shorter ones. */
export const MIN_SEGMENT_FRAMES = 20;
/** The reference's kernel, relative to the localization precision, and its bin relative to the kernel. */
const KERNEL_PER_PRECISION = 0.8;
const BIN_PER_KERNEL = 1;
const BIN_PER_KERNEL_3D = 1.25;
/** 3D kernels are cut at 2.5 sd (a 5³ instead of a 7³ footprint). */
const KERNEL_CUTOFF_SD_3D = 2.5;
/** The first pass climbs on a coarser reference (this factor) to catch a coarse drift that is far off. */
const CAPTURE_FACTOR = 3;
/** A pass updates the last pass's grid instead of building it anew when fewer than this fraction of localizations changed cell. */
const UPDATE_FRACTION = 0.2;
/** Hill-climbing steps (bins) per segment and pass. */
const MAX_CLIMB = 8;
/** Reference grids larger than this are refused (cells; 4 bytes each). */
const MAX_GRID_CELLS = 160e6;
/** A step between consecutive samples is a jump when it exceeds this multiple of the local typical step… */
const JUMP_RATIO = 5;
/** …and this many standard errors… */
const JUMP_SD = 8;
/** …and this many kernel widths. */
const JUMP_KERNELS = 2;
/** A segment's peak is weak when its standard error exceeds this many kernel widths. */
const WEAK_SD_KERNELS = 1;

interface Sorted {
  x: NumericArray;
  y: NumericArray;
  z?: NumericArray;
  t: NumericArray;
}

/** Split the frame-sorted rows into segments of about `target` localizations, cut at every break. */
export function makeSegments(t: NumericArray, target: number, minFrames: number, breaks: readonly number[]): RefineSegment[] {
  const n = t.length;
  const segments: RefineSegment[] = [];
  const cuts = [...breaks].sort((a, b) => a - b);
  let from = 0;
  let cut = 0;
  while (from < n) {
    const start = Math.floor(t[from]);
    while (cut < cuts.length && cuts[cut] <= start) cut++;
    const nextBreak = cut < cuts.length ? cuts[cut] : Infinity;
    let to = from;
    // Whole frames: advance frame by frame until the target and the minimum length are met.
    while (to < n && t[to] < nextBreak && (to - from < target || Math.floor(t[to]) - start < minFrames)) {
      const f = Math.floor(t[to]);
      while (to < n && Math.floor(t[to]) === f) to++;
    }
    segments.push({ startFrame: start, endFrame: to < n ? Math.floor(t[to]) : Math.floor(t[n - 1]) + 1, from, to, t: 0 });
    from = to;
  }
  // A short last segment of a piece joins the one before it when no break separates them.
  for (let k = segments.length - 1; k > 0; k--) {
    const s = segments[k];
    const p = segments[k - 1];
    const broken = cuts.some((b) => b > p.startFrame && b <= s.startFrame);
    if (!broken && s.to - s.from < target / 2 && (k === segments.length - 1 || cuts.some((b) => b === s.endFrame))) {
      p.endFrame = s.endFrame;
      p.to = s.to;
      segments.splice(k, 1);
    }
  }
  for (const s of segments) {
    let sum = 0;
    for (let i = s.from; i < s.to; i++) sum += t[i];
    s.t = sum / (s.to - s.from);
  }
  return segments;
}

/**
 * Piecewise-linear drift through samples (ts ascending), evaluated at every frame
 * [f0, f0 + out.length). Breaks separate pieces: each piece interpolates its own samples and
 * holds its end values up to its breaks; a piece without samples holds the last value before it.
 */
export function linearPerFrame(ts: Float64Array, vs: Float64Array, breaks: readonly number[], f0: number, out: Float64Array): void {
  const edges = [-Infinity, ...[...breaks].sort((a, b) => a - b), Infinity];
  let k = 0;
  let last = vs.length > 0 ? vs[0] : 0;
  for (let p = 0; p + 1 < edges.length; p++) {
    const lo = Math.max(0, Math.ceil(edges[p] - f0));
    const hi = Math.min(out.length, edges[p + 1] === Infinity ? out.length : Math.ceil(edges[p + 1] - f0));
    const a = k;
    while (k < ts.length && ts[k] < edges[p + 1]) k++;
    const b = k; // samples [a, b) lie in this piece
    if (b === a) {
      for (let i = lo; i < hi; i++) out[i] = last;
      continue;
    }
    let q = a;
    for (let i = lo; i < hi; i++) {
      const f = f0 + i;
      while (q + 1 < b && ts[q + 1] <= f) q++;
      if (f <= ts[a]) out[i] = vs[a];
      else if (q + 1 >= b) out[i] = vs[b - 1];
      else out[i] = vs[q] + ((f - ts[q]) / (ts[q + 1] - ts[q])) * (vs[q + 1] - vs[q]);
    }
    last = vs[b - 1];
  }
}

/** Least-squares quadratic through a 3×3 grid of values (unit spacing): the peak offset, or null when no maximum. */
export function quadraticPeak(v: Float64Array): { u: number; v: number; hxx: number; hxy: number; hyy: number } | null {
  let b = 0;
  let c = 0;
  let g = 0;
  const col = [0, 0, 0];
  const row = [0, 0, 0];
  for (let j = 0; j < 3; j++) {
    for (let i = 0; i < 3; i++) {
      const f = v[j * 3 + i];
      b += f * (i - 1);
      c += f * (j - 1);
      g += f * (i - 1) * (j - 1);
      col[i] += f;
      row[j] += f;
    }
  }
  b /= 6;
  c /= 6;
  g /= 4;
  const d = (col[0] + col[2] - 2 * col[1]) / 6;
  const e = (row[0] + row[2] - 2 * row[1]) / 6;
  // Hessian [[2d, g], [g, 2e]] must be negative definite.
  const hxx = 2 * d;
  const hyy = 2 * e;
  const det = hxx * hyy - g * g;
  if (!(hxx < 0 && det > 0)) return null;
  const u = (-b * hyy + c * g) / det;
  const w = (-c * hxx + b * g) / det;
  return { u: Math.max(-1, Math.min(1, u)), v: Math.max(-1, Math.min(1, w)), hxx, hxy: g, hyy };
}

/** Median lateral standard error (nm) of the segments with a clear peak. */
function medianSd(fits: readonly SegmentFit[]): number {
  const sd = Float64Array.from(
    fits.filter((f) => f.ok),
    (f) => Math.hypot(f.sdx, f.sdy) / Math.SQRT2,
  ).sort();
  return sd.length > 0 ? sd[sd.length >> 1] : 0;
}

function parabolaPeak(lo: number, mid: number, hi: number): { u: number; h: number } | null {
  const h = lo + hi - 2 * mid;
  if (!(h < 0)) return null;
  return { u: Math.max(-1, Math.min(1, (lo - hi) / (2 * h))), h };
}

interface SegmentFit {
  dx: number;
  dy: number;
  dz: number;
  sdx: number;
  sdy: number;
  sdz: number;
  ok: boolean;
}

export async function refineDrift(cols: Sorted, coarse: DriftTrace, options: RefineOptions): Promise<RefineResult> {
  const { x, y, z, t } = cols;
  const n = t.length;
  const threeD = !!z;
  const precision = options.precisionNm;
  if (!(precision > 0) || !Number.isFinite(precision)) throw new UsageError(`precisionNm must be a positive number of nm, got ${precision}`);
  const precisionZ = options.precisionZNm ?? 2.5 * precision;
  const fixedTolerance = options.toleranceNm === undefined || options.toleranceNm === 'auto' ? null : options.toleranceNm;
  let tolerance = fixedTolerance ?? TOLERANCE_NM;
  const maxIterations = options.maxIterations ?? 10;
  const target = options.segmentLocs === undefined || options.segmentLocs === 'auto' ? SEGMENT_TARGET_LOCS : options.segmentLocs;
  if (!(target >= 1)) throw new UsageError(`segment size must be at least one localization, got ${target}`);
  const userBreaks = Array.isArray(options.breaks) ? [...(options.breaks as number[])].sort((a, b) => a - b) : [];
  const detect = options.breaks === undefined || options.breaks === 'auto';

  const f0 = Math.floor(t[0]);
  const nFrames = Math.floor(t[n - 1]) - f0 + 1;
  checkAllocation(
    3 * 8 * nFrames,
    `the fine stage's per-frame drift over frames ${f0}–${f0 + nFrames - 1} (column t)`,
    `check the frame numbers of the table (a corrupt row?), or turn the fine stage off (set ${param('refine')} off)`,
  );
  const frameOf = new Int32Array(n);
  for (let i = 0; i < n; i++) frameOf[i] = Math.floor(t[i]) - f0;

  // The current drift at every frame, from the coarse samples.
  const perFrame = [new Float64Array(nFrames), new Float64Array(nFrames), new Float64Array(nFrames)];
  const coarseBreaks = coarse.breaks ? Array.from(coarse.breaks) : userBreaks;
  (['x', 'y', 'z'] as const).forEach((a, k) => linearPerFrame(coarse.t, coarse[a], coarseBreaks, f0, perFrame[k]));

  const kernel = KERNEL_PER_PRECISION * precision;
  const kernelZ = KERNEL_PER_PRECISION * precisionZ;
  // In 3D a bin of one kernel width keeps the grid (and its blur) within reach.
  const binPerKernel = threeD ? BIN_PER_KERNEL_3D : BIN_PER_KERNEL;
  let bin = binPerKernel * kernel;
  let binZ = binPerKernel * kernelZ;

  // The grid covers the coarse-corrected positions with room for the drift to change.
  const px = new Float64Array(n);
  const py = new Float64Array(n);
  const pz = threeD ? new Float64Array(n) : null;
  const correct = () => {
    for (let i = 0; i < n; i++) {
      const f = frameOf[i];
      px[i] = x[i] + perFrame[0][f];
      py[i] = y[i] + perFrame[1][f];
      if (pz) pz[i] = z![i] + perFrame[2][f];
    }
  };
  correct();
  let maxStep = 0;
  for (let k = 1; k < coarse.t.length; k++) maxStep = Math.max(maxStep, Math.hypot(coarse.x[k] - coarse.x[k - 1], coarse.y[k] - coarse.y[k - 1]));
  // Room for the drift to change: laterally what RCC did not see (its largest step, a jump);
  // axially RCC saw nothing, so a quarter of the depth.
  const margin = Math.max(8 * kernel, 2 * maxStep);
  const [xl, xh] = minMax(px, 'x');
  const [yl, yh] = minMax(py, 'y');
  const [zl, zh] = pz ? minMax(pz, 'z') : [0, 0];
  const marginZ = Math.max(4 * kernelZ, 0.25 * (zh - zl));
  const extent: [number, number, number, number, number, number] = [xl - margin, xh + margin, yl - margin, yh + margin, zl - marginZ, zh + marginZ];
  // Very large fields: coarsen the bin (and kernel) until the grid fits.
  const cellsAt = (b: number, bz: number) =>
    ((extent[1] - extent[0]) / b + 20) * ((extent[3] - extent[2]) / b + 20) * (threeD ? (extent[5] - extent[4]) / bz + 20 : 1);
  let kernelNm = kernel;
  let kernelZNm = kernelZ;
  while (cellsAt(bin, binZ) > MAX_GRID_CELLS / 2) {
    bin *= 1.25;
    kernelNm *= 1.25;
    if (threeD) {
      binZ *= 1.1;
      kernelZNm *= 1.1;
    }
  }
  const makeGrid = (scale: number) =>
    new DensityGrid({
      binNm: bin * scale,
      sigmaNm: kernelNm * scale,
      binZNm: threeD ? binZ * scale : undefined,
      sigmaZNm: threeD ? kernelZNm * scale : undefined,
      extent,
      maxCells: MAX_GRID_CELLS,
      cutoffSd: threeD ? KERNEL_CUTOFF_SD_3D : undefined,
    });

  const breaks = [...userBreaks];
  const detectedBreaks: number[] = [];
  let segments = makeSegments(t, target, MIN_SEGMENT_FRAMES, breaks);
  const cells = new Int32Array(n);
  let fits: SegmentFit[] = [];
  let iterations = 0;
  let lastChange = Infinity;
  let capture: DensityGrid | null = options.skipCapture ? null : makeGrid(CAPTURE_FACTOR);
  const fine = makeGrid(1);

  const acc = new Float64Array(9);
  const grad = new Float64Array(5);
  const own = new OwnCells();

  const fitSegment = (grid: DensityGrid, s: RefineSegment): SegmentFit => {
    // Leave-one-out: the reads leave the segment's own share out (the grid is not written).
    own.set(grid, cells, s.from, s.to);
    // Very dense data: segments at their minimum length hold far more localizations than a peak
    // needs; every `stride`-th is read (the reference still leaves all of them out).
    const stride = Math.max(1, Math.floor((s.to - s.from) / (READ_PER_TARGET * target)));
    let cx = 0;
    let cy = 0;
    let cz = 0;
    let ok = true;
    let sdx = Infinity;
    let sdy = Infinity;
    let sdz = threeD ? Infinity : 0;
    let ux = 0;
    let uy = 0;
    let uz = 0;
    const rounds = threeD ? 2 : 1;
    for (let round = 0; round < rounds && ok; round++) {
      // Lateral climb.
      let peak = null;
      for (let step = 0; step <= MAX_CLIMB; step++) {
        acc.fill(0);
        grad.fill(0);
        const ox = cx * grid.binNm;
        const oy = cy * grid.binNm;
        const oz = cz * grid.binZNm;
        for (let i = s.from; i < s.to; i += stride) {
          own.select(i - s.from, cx, cy, cz);
          grid.addLateral3x3(px[i] + ox, py[i] + oy, pz ? pz[i] + oz : 0, acc, grad, own);
        }
        let best = 4;
        for (let q = 0; q < 9; q++) if (acc[q] > acc[best]) best = q;
        if (best === 4 || step === MAX_CLIMB) {
          peak = best === 4 ? quadraticPeak(acc) : null;
          break;
        }
        cx += (best % 3) - 1;
        cy += Math.floor(best / 3) - 1;
      }
      if (!peak || acc[4] <= 0) {
        ok = false;
        break;
      }
      ux = peak.u;
      uy = peak.v;
      // Sandwich covariance (bins²): H⁻¹ M H⁻¹ with M the centred scatter of per-localization gradients.
      const m = Math.ceil((s.to - s.from) / stride);
      const mxx = grad[2] - (grad[0] * grad[0]) / m;
      const mxy = grad[3] - (grad[0] * grad[1]) / m;
      const myy = grad[4] - (grad[1] * grad[1]) / m;
      const det = peak.hxx * peak.hyy - peak.hxy * peak.hxy;
      const ixx = peak.hyy / det;
      const ixy = -peak.hxy / det;
      const iyy = peak.hxx / det;
      const cxx = ixx * (mxx * ixx + mxy * ixy) + ixy * (mxy * ixx + myy * ixy);
      const cyy = ixy * (mxx * ixy + mxy * iyy) + iyy * (mxy * ixy + myy * iyy);
      sdx = Math.sqrt(Math.max(cxx, 0)) * grid.binNm;
      sdy = Math.sqrt(Math.max(cyy, 0)) * grid.binNm;
      if (threeD) {
        let zpeak = null;
        const ax = acc.subarray(0, 3);
        for (let step = 0; step <= MAX_CLIMB; step++) {
          ax.fill(0);
          grad.fill(0);
          const ox = (cx + ux) * grid.binNm;
          const oy = (cy + uy) * grid.binNm;
          const oz = cz * grid.binZNm;
          for (let i = s.from; i < s.to; i += stride) {
            own.select(i - s.from, cx + ux, cy + uy, cz);
            grid.addAxial3(px[i] + ox, py[i] + oy, pz![i] + oz, ax, grad, own);
          }
          const best = ax[0] > ax[1] && ax[0] >= ax[2] ? 0 : ax[2] > ax[1] ? 2 : 1;
          if (best === 1 || step === MAX_CLIMB) {
            zpeak = best === 1 ? parabolaPeak(ax[0], ax[1], ax[2]) : null;
            break;
          }
          cz += best - 1;
        }
        if (!zpeak) {
          ok = false;
          break;
        }
        uz = zpeak.u;
        const m2 = grad[1] - (grad[0] * grad[0]) / m;
        sdz = (Math.sqrt(Math.max(m2, 0)) / -zpeak.h) * grid.binZNm;
        // The next lateral round starts from the refined z.
        if (round + 1 < rounds) {
          cz += Math.round(uz);
          uz -= Math.round(uz);
        }
      }
    }
    return {
      dx: (cx + ux) * grid.binNm,
      dy: (cy + uy) * grid.binNm,
      dz: threeD ? (cz + uz) * grid.binZNm : 0,
      sdx,
      sdy,
      sdz,
      ok: ok && sdx < (WEAK_SD_KERNELS * grid.binNm) / binPerKernel && sdy < (WEAK_SD_KERNELS * grid.binNm) / binPerKernel,
    };
  };

  const samples = () => {
    const m = segments.length;
    const out = { t: new Float64Array(m), x: new Float64Array(m), y: new Float64Array(m), z: new Float64Array(m) };
    segments.forEach((s, k) => {
      out.t[k] = s.t;
      const f = fits[k];
      let ax = 0;
      let ay = 0;
      let az = 0;
      for (let i = s.from; i < s.to; i++) {
        const fr = frameOf[i];
        ax += perFrame[0][fr];
        ay += perFrame[1][fr];
        az += perFrame[2][fr];
      }
      const c = s.to - s.from;
      out.x[k] = ax / c + (f?.ok ? f.dx : 0);
      out.y[k] = ay / c + (f?.ok ? f.dy : 0);
      out.z[k] = az / c + (f?.ok ? f.dz : 0);
    });
    return out;
  };

  let previous: { x: Float64Array; y: Float64Array; z: Float64Array } | null = null;
  // The grid the last pass built, and the cells it was built from.
  let built: DensityGrid | null = null;
  const builtCells = new Int32Array(n);
  const runPass = async (grid: DensityGrid) => {
    correct();
    let moved = 0;
    for (let i = 0; i < n; i++) {
      cells[i] = grid.cellOf(px[i], py[i], pz ? pz[i] : 0);
      if (cells[i] !== builtCells[i]) moved++;
    }
    if (built === grid && moved < UPDATE_FRACTION * n) {
      // The drift changed little since the last pass: move only the localizations whose cell
      // changed (the same sums as a new build, at a fraction of its cost).
      for (let i = 0; i < n; i++) {
        if (cells[i] === builtCells[i]) continue;
        grid.splat(builtCells[i], -1);
        grid.splat(cells[i], +1);
      }
    } else {
      grid.build(cells);
      built = grid;
    }
    builtCells.set(cells);
    fits = [];
    options.progress?.start?.(`fine stage, pass ${iterations + 1}`, segments.length);
    for (let k = 0; k < segments.length; k++) {
      fits.push(fitSegment(grid, segments[k]));
      if (k % 64 === 63) {
        options.progress?.update?.(k + 1);
        await options.yieldNow?.();
      }
    }
    options.progress?.stop?.();
    const s = samples();
    const keep = fits.flatMap((f, k) => (f.ok ? [k] : []));
    if (keep.length < 2) {
      throw new InsufficientDataError(
        `the fine drift stage found a clear peak in only ${keep.length} of ${segments.length} segments; ` +
          `the localizations are too sparse or too imprecise for it: turn it off (set ${param('refine')} off) or use longer segments`,
      );
    }
    // Change of the samples since the last pass (same segments), relative to their mean (the offset is arbitrary).
    if (previous && previous.x.length === s.x.length) {
      const mean = [0, 0, 0];
      const axes = ['x', 'y', 'z'] as const;
      for (const k of keep) axes.forEach((a, q) => (mean[q] += s[a][k] - previous![a][k]));
      mean.forEach((_, q) => (mean[q] /= keep.length));
      let sum = 0;
      for (const k of keep) axes.forEach((a, q) => (sum += (s[a][k] - previous![a][k] - mean[q]) ** 2));
      lastChange = Math.sqrt(sum / keep.length);
    } else {
      lastChange = Infinity;
    }
    previous = { x: s.x, y: s.y, z: s.z };
    // The model follows the good samples only.
    const ts = Float64Array.from(keep, (k) => s.t[k]);
    (['x', 'y', 'z'] as const).forEach((a, ax) =>
      linearPerFrame(
        ts,
        Float64Array.from(keep, (k) => s[a][k]),
        breaks,
        f0,
        perFrame[ax],
      ),
    );
    iterations++;
    return s;
  };

  let s = await runPass(capture ?? fine);
  capture = null;
  if (options.skipCapture && maxIterations <= 1) {
    // One pass is the whole check: no further pass, no convergence to wait for.
    lastChange = 0;
  }
  for (let pass = options.skipCapture ? 1 : 0; pass < maxIterations; pass++) {
    s = await runPass(fine);
    if (detect && pass < 3) {
      const found = detectJumps(s, fits, kernelNm);
      if (found.length > 0) {
        for (const [a, b] of found) {
          const frame = locateJump(fine, segments, a, b, s, { x, y, z, frameOf, f0, cells, px, py, pz });
          if (frame !== null && !breaks.includes(frame)) {
            breaks.push(frame);
            detectedBreaks.push(frame);
            // The drift before the jump holds the sample before it, after it the sample after it.
            for (let f = segments[a].startFrame; f < segments[b].endFrame; f++) {
              const src = f < frame ? a : b;
              perFrame[0][f - f0] = s.x[src];
              perFrame[1][f - f0] = s.y[src];
              perFrame[2][f - f0] = s.z[src];
            }
          }
        }
        breaks.sort((p, q) => p - q);
        segments = makeSegments(t, target, MIN_SEGMENT_FRAMES, breaks);
        fits = [];
        previous = null;
        continue;
      }
    }
    if (fixedTolerance === null) tolerance = Math.max(TOLERANCE_NM, TOLERANCE_PER_SD * medianSd(fits));
    if (lastChange < tolerance) break;
  }
  if (lastChange >= tolerance) {
    options.progress?.warn?.(
      `the fine drift stage stopped after ${iterations} passes still changing by ${lastChange.toFixed(2)} nm RMS; the drift may be faster than its segments resolve`,
    );
  }
  const weakSegments = fits.flatMap((f, k) => (f.ok ? [] : [k]));
  const keep = fits.flatMap((f, k) => (f.ok ? [k] : []));
  const ref = keep[0];
  const pick = (v: Float64Array) => Float64Array.from(keep, (k) => v[k] - v[ref]);
  const drift: DriftTrace = {
    t: Float64Array.from(keep, (k) => s.t[k]),
    x: pick(s.x),
    y: pick(s.y),
    z: threeD ? pick(s.z) : new Float64Array(keep.length),
    breaks: Float64Array.from(breaks),
    sd: {
      x: Float64Array.from(keep, (k) => fits[k].sdx),
      y: Float64Array.from(keep, (k) => fits[k].sdy),
      z: Float64Array.from(keep, (k) => fits[k].sdz),
    },
  };
  return { drift, segments, weakSegments, breaks, detectedBreaks, iterations, lastChangeNm: lastChange, binNm: bin, kernelNm };
}

/**
 * Pairs (a, b) of segments with a jump between them: a step between consecutive good samples
 * much larger than the typical step around it, than its standard error and than the kernel.
 * Consecutive large steps (a jump inside a segment mixes both positions) merge into one.
 */
function detectJumps(s: { x: Float64Array; y: Float64Array; z: Float64Array }, fits: SegmentFit[], kernelNm: number): [number, number][] {
  const keep = fits.flatMap((f, k) => (f.ok ? [k] : []));
  const m = keep.length;
  if (m < 8) return [];
  const step = new Float64Array(m - 1);
  const sd = new Float64Array(m - 1);
  for (let q = 0; q + 1 < m; q++) {
    const a = keep[q];
    const b = keep[q + 1];
    step[q] = Math.hypot(s.x[b] - s.x[a], s.y[b] - s.y[a], s.z[b] - s.z[a]);
    sd[q] = Math.hypot(fits[a].sdx, fits[b].sdx, fits[a].sdy, fits[b].sdy, fits[a].sdz, fits[b].sdz);
  }
  const out: [number, number][] = [];
  const HALF = 10;
  let q = 0;
  while (q < m - 1) {
    const lo = Math.max(0, q - HALF);
    const hi = Math.min(m - 1, q + HALF + 1);
    const local = Array.from(step.subarray(lo, hi)).sort((p, r) => p - r)[Math.floor((hi - lo) / 2)];
    const big = (r: number) => step[r] > JUMP_RATIO * local && step[r] > JUMP_SD * sd[r] && step[r] > JUMP_KERNELS * kernelNm;
    if (big(q)) {
      let end = q;
      while (end + 1 < m - 1 && big(end + 1)) end++;
      // A run of big steps all in one direction is one jump; the segments inside it are mixed.
      out.push([keep[q], keep[end + 1]]);
      q = end + 1;
    } else {
      q++;
    }
  }
  return out;
}

/**
 * The frame of a jump between segments a and b: the split of the frames in between that best
 * fits the localizations before it at segment a's drift and those after it at segment b's.
 */
function locateJump(
  grid: DensityGrid,
  segments: RefineSegment[],
  a: number,
  b: number,
  s: { x: Float64Array; y: Float64Array; z: Float64Array },
  data: {
    x: NumericArray;
    y: NumericArray;
    z?: NumericArray;
    frameOf: Int32Array;
    f0: number;
    cells: Int32Array;
    px: Float64Array;
    py: Float64Array;
    pz: Float64Array | null;
  },
): number | null {
  const from = segments[a].from;
  const to = segments[b].to;
  const first = segments[a].startFrame;
  const frames = segments[b].endFrame - first;
  for (let i = from; i < to; i++) grid.splat(data.cells[i], -1);
  const before = new Float64Array(frames);
  const after = new Float64Array(frames);
  const one = new Float64Array(9);
  for (let i = from; i < to; i++) {
    const f = data.frameOf[i] + data.f0 - first;
    const zi = data.z ? data.z[i] : 0;
    one.fill(0);
    grid.addLateral3x3(data.x[i] + s.x[a], data.y[i] + s.y[a], zi + s.z[a], one);
    before[f] += one[4];
    one.fill(0);
    grid.addLateral3x3(data.x[i] + s.x[b], data.y[i] + s.y[b], zi + s.z[b], one);
    after[f] += one[4];
  }
  for (let i = from; i < to; i++) grid.splat(data.cells[i], +1);
  let best = -Infinity;
  let bestFrame: number | null = null;
  let cum = 0;
  // Split at f: frames < f before, ≥ f after. Score = Σ_{<f} before + Σ_{≥f} after.
  for (let f = 1; f < frames; f++) {
    cum += before[f - 1] - after[f - 1];
    if (cum > best) {
      best = cum;
      bestFrame = first + f;
    }
  }
  return bestFrame;
}
