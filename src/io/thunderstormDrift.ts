/**
 * ThunderSTORM's drift file: the JSON that "Drift correction → Save to file" writes and "Load
 * from file" reads (zitmen/thunderstorm, `results/ResultsDriftCorrection.java`:
 * `new Gson().toJson(DriftResults)`). What that class holds (`drift/DriftResults.java`):
 *
 *   { "xFunction": { "knots": [f0, …, fn], "polynomials": [{ "coefficients": [c0, c1, …] }, …], "n": n },
 *     "yFunction": { … },
 *     "driftDataFrame": [...], "driftDataX": [...], "driftDataY": [...],   // the measured samples
 *     "minFrame": a, "maxFrame": b, "units": "PIXEL" | "NANOMETER" | "MICROMETER" }
 *
 * `xFunction` is commons-math3's `PolynomialSplineFunction`: on [knots[i], knots[i+1]] the
 * value at frame f is Σ_k coefficients[k] · (f − knots[i])^k (ascending powers). Frames are
 * ThunderSTORM's, counted from 1. ThunderSTORM SUBTRACTS the drift:
 * `x ← x − units.convertTo(unitsOfX, drift.x(frame))`. ccdrift's trace is the correction to
 * ADD in nm at 0-based frames, so t = frame − 1 and x = −drift.x · (nm per unit). 2D only:
 * the file has no z. A pixel-unit file needs the camera pixel size.
 *
 * ccdrift writes per-frame drift as such a file in NANOMETER units (ThunderSTORM converts to
 * the table's units itself), the functions piecewise linear through every frame.
 * No `node:` imports.
 */
import { param } from '../core/messageParams.js';
import { InputError, UsageError } from '../core/errors.js';
import type { DriftTrace } from '../core/types.js';

interface SplineJson {
  knots: number[];
  polynomials: { coefficients: number[] }[];
  n?: number;
}

function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

function checkSpline(name: string, key: string, v: unknown): SplineJson {
  const s = v as SplineJson;
  if (!s || typeof s !== 'object' || !isNumberArray(s.knots) || !Array.isArray(s.polynomials)) {
    throw new InputError(`${name}: '${key}' is not a ThunderSTORM spline (expected { knots: [...], polynomials: [{ coefficients: [...] }, ...] })`);
  }
  if (s.knots.length < 2 || s.polynomials.length !== s.knots.length - 1) {
    throw new InputError(
      `${name}: '${key}' has ${s.knots.length} knots and ${s.polynomials.length} polynomials; expected one polynomial per interval (knots − 1)`,
    );
  }
  for (let i = 0; i < s.polynomials.length; i++) {
    if (!isNumberArray(s.polynomials[i]?.coefficients)) throw new InputError(`${name}: '${key}.polynomials[${i}].coefficients' is not a list of numbers`);
    if (!(s.knots[i + 1] > s.knots[i]))
      throw new InputError(`${name}: '${key}.knots' must increase (knot ${i}: ${s.knots[i]}, knot ${i + 1}: ${s.knots[i + 1]})`);
  }
  return s;
}

/** Evaluate a commons-math PolynomialSplineFunction at `f` (inside its knots). */
function evaluateSpline(s: SplineJson, f: number): number {
  const k = s.knots;
  let lo = 0;
  let hi = k.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (k[mid] <= f) lo = mid;
    else hi = mid - 1;
  }
  const c = s.polynomials[lo].coefficients;
  const u = f - k[lo];
  let v = 0;
  for (let j = c.length - 1; j >= 0; j--) v = v * u + c[j];
  return v;
}

/** nm per unit of a ThunderSTORM drift file. */
function nmPerUnit(name: string, units: unknown, pixelSizeNm: number | undefined): number {
  if (units === 'NANOMETER') return 1;
  if (units === 'MICROMETER') return 1000;
  if (units === 'PIXEL' || units === undefined) {
    if (!(pixelSizeNm !== undefined && pixelSizeNm > 0 && Number.isFinite(pixelSizeNm))) {
      throw new UsageError(`${name}: the drift is in camera pixels (units ${units ?? 'not stated: PIXEL'}); give the pixel size (${param('pixelSizeNm')}, nm)`);
    }
    return pixelSizeNm;
  }
  throw new InputError(`${name}: units '${String(units)}'; a ThunderSTORM drift file is in PIXEL, NANOMETER or MICROMETER`);
}

/**
 * Parse a ThunderSTORM drift JSON into ccdrift's per-frame trace: the spline evaluated at every
 * whole frame inside its knots, t = frame − 1, the correction to add in nm.
 */
export function parseThunderstormDriftJson(text: string, name: string, pixelSizeNm?: number): DriftTrace {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, '')) as Record<string, unknown>;
  } catch (err) {
    throw new InputError(`${name}: not valid JSON (${(err as Error).message}); expected ThunderSTORM's drift file`, { cause: err });
  }
  if (!doc || typeof doc !== 'object' || !('xFunction' in doc) || !('yFunction' in doc)) {
    throw new InputError(`${name}: no 'xFunction'/'yFunction'; a ThunderSTORM drift file (Drift correction → Save to file) holds both`);
  }
  const xs = checkSpline(name, 'xFunction', doc.xFunction);
  const ys = checkSpline(name, 'yFunction', doc.yFunction);
  const scale = nmPerUnit(name, doc.units, pixelSizeNm);
  const first = Math.ceil(Math.max(xs.knots[0], ys.knots[0]));
  const last = Math.floor(Math.min(xs.knots[xs.knots.length - 1], ys.knots[ys.knots.length - 1]));
  if (last < first) throw new InputError(`${name}: the splines cover no whole frame (knots ${xs.knots[0]} … ${xs.knots[xs.knots.length - 1]})`);
  const n = last - first + 1;
  const trace: DriftTrace = { t: new Float64Array(n), x: new Float64Array(n), y: new Float64Array(n), z: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const f = first + i;
    trace.t[i] = f - 1;
    trace.x[i] = -evaluateSpline(xs, f) * scale + 0;
    trace.y[i] = -evaluateSpline(ys, f) * scale + 0;
  }
  return trace;
}

/**
 * ThunderSTORM's drift JSON for a per-frame trace (ccdrift convention, t 0-based): units
 * NANOMETER, frames t + 1, the drift ThunderSTORM subtracts (−correction), piecewise linear.
 * The z column cannot be stored (ThunderSTORM's drift is 2D).
 */
export function formatThunderstormDriftJson(trace: DriftTrace): string {
  const n = trace.t.length;
  if (n < 2) throw new RangeError(`a ThunderSTORM drift file needs at least 2 frames (its spline needs 2 knots), got ${n}`);
  const frames = Array.from(trace.t, (t) => t + 1);
  const spline = (v: Float64Array) => {
    const values = Array.from(v, (a) => -a + 0);
    return {
      n: n - 1,
      knots: frames,
      polynomials: values.slice(0, -1).map((a, i) => ({ coefficients: [a, (values[i + 1] - a) / (frames[i + 1] - frames[i])] })),
    };
  };
  return JSON.stringify({
    xFunction: spline(trace.x),
    yFunction: spline(trace.y),
    driftDataFrame: frames,
    driftDataX: Array.from(trace.x, (a) => -a + 0),
    driftDataY: Array.from(trace.y, (a) => -a + 0),
    minFrame: frames[0],
    maxFrame: frames[n - 1],
    units: 'NANOMETER',
  });
}
