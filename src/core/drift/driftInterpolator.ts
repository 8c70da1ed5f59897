/**
 * Drift interpolation (SPEC §4.2, §4.3): one smoothing spline per axis per drift trace
 * (FITPACK curfit semantics, see ../spline/fitSmoothingSpline.ts), summed over the traces
 * because drifts measured in stages add up. Values are the correction to ADD (see
 * ../types.ts).
 *
 * Beyond each trace's own first and last sample the trace continues according to the
 * extrapolation mode:
 *   - 'linear'   (default) from the spline's end value along its end slope;
 *   - 'spline'   the end polynomial pieces (the original plugin's behaviour, SciPy ext=0),
 *                which can swing by hundreds of nm over the first and last frames;
 *   - 'constant' holds the spline's end value.
 */
import { checkAllocation } from '../memoryLimit.js';
import { InputError, InsufficientDataError, UsageError } from '../errors.js';
import { evaluateSpline } from '../spline/evaluateSpline.js';
import { fitSmoothingSpline, type SmoothingSpline } from '../spline/fitSmoothingSpline.js';
import { crossValidatedSmoothing, evaluateNaturalSpline, fitCubicSmoothingSpline } from '../spline/cubicSmoothingSpline.js';
import { createRandom } from '../simulate/random.js';
import type { DriftInterpolator, DriftTrace, Extrapolation, ProgressReporter } from '../types.js';
import { param } from '../messageParams.js';

export interface DriftInterpolatorOptions {
  /** Spline degree, 1 (linear) … 5. @default 3 */
  degree?: number;
  /**
   * Smoothing factor s in nm² (the spline's sum of squared residuals per axis); negative
   * means SciPy's default s = number of samples, 0 interpolates; 'auto' smooths by a cubic
   * smoothing spline whose strength cross-validation picks from the samples (weighted by the
   * trace's `sd` when present), then interpolates (autoSmoothedValues). @default -1
   */
  smoothing?: number | 'auto';
  /** Continuation beyond each trace's samples. @default 'linear' */
  extrapolation?: Extrapolation;

  /** Receives warnings, e.g. a degree lowered because a trace has too few samples. */
  reporter?: ProgressReporter;
}

/** The defaults, stated once for the recipes, CLI and web form. */
export const DRIFT_INTERPOLATION_DEFAULTS = {
  degree: 3,
  smoothing: -1,
  extrapolation: 'linear',
} as const satisfies Required<Omit<DriftInterpolatorOptions, 'reporter'>>;

export const EXTRAPOLATION_MODES: readonly Extrapolation[] = ['linear', 'spline', 'constant'];

/** One axis of one trace: identically zero, or a spline with its end values and slopes. */
/** A trace's samples between two breaks, fitted on their own. */
interface Piece {
  /** Frames [lo, hi) this piece covers (±Infinity at the ends). */
  lo: number;
  hi: number;
  axes: AxisModel[];
  /** What a refit of each axis needs (for evaluateSd): the samples, and λ for smoothing 'auto'. */
  fits: { t: Float64Array; v: Float64Array; w?: Float64Array; lambda?: number; modelVariance?: number }[];
}

/** Share of the excess two-fold CV error (at twice the spacing) kept for the drift between samples (autoSmoothing). */
export const CV_MODEL_FRACTION = 0.25;

/** Monte Carlo draws of the samples' errors that evaluateSd pushes through the smoothing. */
export const SD_PROPAGATION_DRAWS = 48;

type AxisModel =
  | { zero: true }
  | {
      zero: false;
      spline: SmoothingSpline;
      tFirst: number;
      tLast: number;
      valueFirst: number;
      valueLast: number;
      slopeFirst: number;
      slopeLast: number;
    };

const AXES = ['x', 'y', 'z'] as const;

export function createDriftInterpolator(traces: readonly DriftTrace[], options: DriftInterpolatorOptions = {}): DriftInterpolator {
  const degree = options.degree ?? DRIFT_INTERPOLATION_DEFAULTS.degree;
  const smoothing = options.smoothing ?? DRIFT_INTERPOLATION_DEFAULTS.smoothing;
  const extrapolation = options.extrapolation ?? DRIFT_INTERPOLATION_DEFAULTS.extrapolation;
  if (!EXTRAPOLATION_MODES.includes(extrapolation)) {
    throw new UsageError(
      `${param('extrapolation')} must be one of ${EXTRAPOLATION_MODES.map((e) => `'${e}'`).join(', ')}, ` + `received '${String(extrapolation)}'`,
      { param: 'extrapolation' },
    );
  }
  if (traces.length === 0) {
    throw new InsufficientDataError('drift interpolation: no drift traces were given; at least one is needed');
  }

  let rangeFirst = Infinity;
  let rangeLast = -Infinity;
  const models: Piece[][] = traces.map((trace, index) => {
    const label = traces.length > 1 ? `drift trace ${index + 1} of ${traces.length}` : 'drift trace';
    const m = trace.t.length;
    for (const axis of AXES) {
      if (trace[axis].length !== m) {
        throw new InputError(
          `${label}: column ${axis} has ${trace[axis].length} samples but t has ${m}; ` + 'every column must have one value per sample time',
        );
      }
    }
    const warnings = new Set<string>();
    const edges = piecesOf(trace);
    const pieces: Piece[] = [];
    for (const [lo, hi, a, b] of edges) {
      const t = trace.t.subarray(a, b);
      const fits: Piece['fits'] = [];
      const axes = AXES.map((axis) => {
        const v = trace[axis].subarray(a, b);
        const auto = smoothing === 'auto';
        const smoothed = auto ? autoSmoothing(t, v, trace.sd?.[axis].subarray(a, b)) : undefined;
        fits.push({ t, v, w: smoothed?.w, lambda: smoothed?.lambda, modelVariance: smoothed?.modelVariance });
        const model = fitAxis(
          t,
          smoothed ? smoothed.values : v,
          degree,
          auto ? 0 : smoothing,
          `${label}, axis ${axis}${edges.length > 1 ? ` (frames ${lo}–${hi})` : ''}`,
        );
        if (!model.zero && model.spline.warning) warnings.add(model.spline.warning);
        return model;
      });
      pieces.push({ lo, hi, axes, fits });
    }
    for (const w of warnings) options.reporter?.warn?.(`${label}: ${w}`);
    rangeFirst = Math.min(rangeFirst, trace.t[0]);
    rangeLast = Math.max(rangeLast, trace.t[m - 1]);
    return pieces;
  });

  const evaluate = (t: ArrayLike<number>): DriftTrace => {
    const n = t.length;
    const result: DriftTrace = {
      t: Float64Array.from(t),
      x: new Float64Array(n),
      y: new Float64Array(n),
      z: new Float64Array(n),
    };
    evaluateModels(models, result, extrapolation);
    return result;
  };

  /**
   * Standard error of the curve at t (issue 15). Smoothing 'auto': the samples' standard errors
   * pushed through the same cubic smoothing spline at its cross-validated λ by Monte Carlo
   * (SD_PROPAGATION_DRAWS draws of independent Gaussian sample errors, centred — the offset does
   * not count — fixed seed; linear continuation beyond the samples, or held for 'constant'),
   * plus what cross-validation says the samples miss between them. FITPACK's s-smoothing picks
   * its knots from the data, so it is not linear: there the samples' sd, interpolated. Sources
   * add independently. Undefined when a source has no standard errors.
   */
  const evaluateSd = (t: ArrayLike<number>) => {
    if (!traces.every((tr) => tr.sd)) return undefined;
    const n = t.length;
    const variance = { x: new Float64Array(n), y: new Float64Array(n), z: new Float64Array(n) };
    const rng = createRandom(15);
    traces.forEach((trace, index) => {
      const m = trace.t.length;
      // Independent Gaussian sample errors, centred over the trace (the offset does not count).
      const draws = Array.from({ length: SD_PROPAGATION_DRAWS }, () =>
        AXES.map((a) => {
          const e = Float64Array.from(trace.sd![a], (sd) => rng.normal() * (sd || 0));
          const mean = e.reduce((p, v) => p + v, 0) / m;
          return e.map((v) => v - mean);
        }),
      );
      let offset = 0;
      for (const piece of models[index]) {
        while (offset < m && trace.t[offset] < piece.lo) offset++;
        const idx: number[] = [];
        for (let i = 0; i < n; i++) if (t[i] >= piece.lo && t[i] < piece.hi) idx.push(i);
        if (idx.length === 0) continue;
        AXES.forEach((axis, k) => {
          if (piece.axes[k].zero) return;
          const { t: pt, w, lambda, modelVariance } = piece.fits[k];
          const first = pt[0];
          const last = pt[pt.length - 1];
          // 'constant' holds the end values; otherwise the natural spline's linear continuation.
          const at = Float64Array.from(idx, (i) => (extrapolation === 'constant' ? Math.min(last, Math.max(first, t[i])) : t[i]));
          const out = variance[axis];
          if (lambda !== undefined && w) {
            // Smoothing 'auto' is linear at its λ: smooth each draw alone.
            for (const d of draws) {
              const e = d[k].subarray(offset, offset + pt.length);
              const curve = evaluateNaturalSpline(fitCubicSmoothingSpline(pt, e, w, lambda), at);
              idx.forEach((i, q) => (out[i] += (curve[q] * curve[q]) / SD_PROPAGATION_DRAWS));
            }
            if (modelVariance && modelVariance > 0) for (const i of idx) out[i] += modelVariance;
          } else {
            // FITPACK's s-smoothing chooses its knots from the data (not linear): the samples'
            // sd interpolated, not reduced by the smoothing (an upper bound).
            const sd = trace.sd![axis].subarray(offset, offset + pt.length);
            const lin = new Float64Array(idx.length);
            linearInterpolate(pt, sd, at, lin);
            idx.forEach((i, q) => (out[i] += lin[q] * lin[q]));
          }
        });
        offset += piece.fits[0].t.length;
      }
    });
    return { x: variance.x.map(Math.sqrt), y: variance.y.map(Math.sqrt), z: variance.z.map(Math.sqrt) };
  };

  return {
    evaluate,
    evaluateSd,
    sources: Object.freeze([...traces]),
    range: Object.freeze<readonly [number, number]>([rangeFirst, rangeLast]),
    extrapolation,
  };
}

/** Piecewise-linear interpolation of (x, y) at u (x ascending), holding the end values beyond. */
function linearInterpolate(x: Float64Array, y: Float64Array, u: Float64Array, out: Float64Array): void {
  let k = 0;
  for (let q = 0; q < u.length; q++) {
    const v = u[q];
    if (v <= x[0]) out[q] = y[0];
    else if (v >= x[x.length - 1]) out[q] = y[y.length - 1];
    else {
      if (v < x[k]) k = 0;
      while (k + 2 < x.length && x[k + 1] <= v) k++;
      out[q] = y[k] + ((v - x[k]) / (x[k + 1] - x[k])) * (y[k + 1] - y[k]);
    }
  }
}

/** Add every trace's pieces, evaluated at result.t, into result's axes. */
function evaluateModels(models: Piece[][], result: DriftTrace, extrapolation: Extrapolation): void {
  {
    const n = result.t.length;
    const scratch = new Float64Array(n);
    for (const pieces of models) {
      for (const piece of pieces) {
        // The frames this piece covers (all of them when there are no breaks).
        const ts = pieces.length === 1 ? result.t : result.t.filter((v) => v >= piece.lo && v < piece.hi);
        if (ts.length === 0) continue;
        const part = pieces.length === 1 ? null : { x: new Float64Array(ts.length), y: new Float64Array(ts.length), z: new Float64Array(ts.length) };
        AXES.forEach((axis, a) => {
          const model = piece.axes[a];
          if (model.zero) return;
          addAxis(model, ts, extrapolation, part ? scratch.subarray(0, ts.length) : scratch, part ? part[axis] : result[axis]);
        });
        if (part) {
          let j = 0;
          for (let i = 0; i < n; i++) {
            const v = result.t[i];
            if (v >= piece.lo && v < piece.hi) {
              result.x[i] += part.x[j];
              result.y[i] += part.y[j];
              result.z[i] += part.z[j];
              j++;
            }
          }
        }
      }
    }
  }
}

/**
 * The pieces of a trace between its breaks: [lo, hi) frames and the sample range [a, b).
 * A break with fewer than two samples on one side is dropped (nothing to fit there: the
 * sample joins the piece beside it).
 */
const MIN_PIECE_SAMPLES = 2;

function piecesOf(trace: DriftTrace): [number, number, number, number][] {
  const m = trace.t.length;
  const breaks = trace.breaks ? [...trace.breaks].filter(Number.isFinite).sort((p, q) => p - q) : [];
  const out: [number, number, number, number][] = [];
  let lo = -Infinity;
  let a = 0;
  for (const b of breaks) {
    let k = a;
    while (k < m && trace.t[k] < b) k++;
    if (k - a < MIN_PIECE_SAMPLES || m - k < MIN_PIECE_SAMPLES) continue;
    out.push([lo, b, a, k]);
    lo = b;
    a = k;
  }
  out.push([lo, Infinity, a, m]);
  return out;
}

/**
 * Smoothing 'auto' for one axis of one piece: the cubic smoothing spline whose λ two-fold
 * cross-validation picks (spline/cubicSmoothingSpline.ts), each sample weighted by 1/sd² when
 * the trace knows its standard errors; the result is then interpolated.
 */
export function autoSmoothedValues(t: Float64Array, v: Float64Array, sd?: Float64Array): Float64Array {
  return autoSmoothing(t, v, sd).values;
}

/** autoSmoothedValues with the weights and λ it used (for evaluateSd's refits). */
function autoSmoothing(
  t: Float64Array,
  v: Float64Array,
  sd?: Float64Array,
): { values: Float64Array; w?: Float64Array; lambda?: number; modelVariance?: number } {
  if (v.every((a) => a === 0)) return { values: v };
  const w = new Float64Array(v.length).fill(1);
  if (sd) {
    for (let i = 0; i < v.length; i++) if (Number.isFinite(sd[i]) && sd[i] > 0) w[i] = 1 / sd[i] ** 2;
    // Relative weights only: λ is chosen by cross-validation.
    let mean = 0;
    for (const x of w) mean += x;
    mean /= w.length;
    for (let i = 0; i < w.length; i++) w[i] /= mean;
  }
  const { spline, lambda, cvMeanSquare } = crossValidatedSmoothing(t, v, w);
  // What the samples cannot see: each half predicting the other misses the truth by more than
  // the samples' noise explains (prediction ≈ as noisy as a sample: 2 sd²). Between samples of
  // the whole set (half the spacing) less of it is left: 1/2 for a random walk, 1/16 for a smooth
  // cubic; CV_MODEL_FRACTION, measured on simulated drifts, lies between.
  let modelVariance = 0;
  if (sd && Number.isFinite(cvMeanSquare)) {
    let ms = 0;
    for (const x of sd) ms += Number.isFinite(x) ? x * x : 0;
    modelVariance = Math.max(0, cvMeanSquare - (2 * ms) / sd.length) * CV_MODEL_FRACTION;
  }
  return { values: spline.f, w, lambda, modelVariance };
}

function fitAxis(t: Float64Array, values: Float64Array, degree: number, smoothing: number, label: string, weights?: Float64Array): AxisModel {
  // An all-zero axis (z of 2D data) stays exactly zero, whatever the rounding of a fit.
  // Non-finite values fall through to the fit, which reports them.
  if (t.length > 0 && values.every((v) => v === 0)) {
    fitOrExplain(t, values, degree, smoothing, label); // still validates t
    return { zero: true };
  }
  const spline = fitOrExplain(t, values, degree, smoothing, label, weights);
  const m = t.length;
  const ends = [t[0], t[m - 1]];
  const endValues = evaluateSpline(spline, ends);
  const endSlopes = evaluateSpline(spline, ends, undefined, 1);
  return {
    zero: false,
    spline,
    tFirst: ends[0],
    tLast: ends[1],
    valueFirst: endValues[0],
    valueLast: endValues[1],
    slopeFirst: endSlopes[0],
    slopeLast: endSlopes[1],
  };
}

/** Fit, and name the trace and axis in data errors (parameter errors pass through unchanged). */
function fitOrExplain(t: Float64Array, values: Float64Array, degree: number, smoothing: number, label: string, weights?: Float64Array): SmoothingSpline {
  try {
    return fitSmoothingSpline(t, values, { degree, smoothing, weights });
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${label}: ${e.message}`, { cause: e });
    if (e instanceof InsufficientDataError) {
      throw new InsufficientDataError(`${label}: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/** out[i] += this axis at t[i], with the extrapolation mode beyond the trace's samples. */
function addAxis(model: Extract<AxisModel, { zero: false }>, t: Float64Array, extrapolation: Extrapolation, scratch: Float64Array, out: Float64Array): void {
  evaluateSpline(model.spline, t, scratch);
  const { tFirst, tLast, valueFirst, valueLast, slopeFirst, slopeLast } = model;
  for (let i = 0; i < t.length; i++) {
    const ti = t[i];
    let v = scratch[i];
    if (extrapolation !== 'spline') {
      if (ti < tFirst) {
        v = extrapolation === 'linear' ? valueFirst + slopeFirst * (ti - tFirst) : valueFirst;
      } else if (ti > tLast) {
        v = extrapolation === 'linear' ? valueLast + slopeLast * (ti - tLast) : valueLast;
      }
    }
    out[i] += v;
  }
}

/**
 * The drift at every integer frame from `firstFrame` to `lastFrame` inclusive (one row per
 * frame), e.g. for per-frame drift output.
 */
export function sampleDriftPerFrame(interpolator: DriftInterpolator, firstFrame: number, lastFrame: number): DriftTrace {
  if (!Number.isSafeInteger(firstFrame) || !Number.isSafeInteger(lastFrame)) {
    throw new UsageError(`per-frame drift needs integer frames, received first ${firstFrame} and last ${lastFrame}`);
  }
  if (lastFrame < firstFrame) {
    throw new UsageError(`per-frame drift: last frame (${lastFrame}) is before first frame (${firstFrame}); ` + 'give first <= last');
  }
  // The frames and the x, y, z drift at each: four float64 per frame.
  checkAllocation(4 * 8 * (lastFrame - firstFrame + 1), `the per-frame drift of frames ${firstFrame}–${lastFrame}`, 'ask for a shorter frame range');
  const frames = new Float64Array(lastFrame - firstFrame + 1);
  for (let i = 0; i < frames.length; i++) frames[i] = firstFrame + i;
  return interpolator.evaluate(frames);
}
