import { createDriftInterpolator, DRIFT_INTERPOLATION_DEFAULTS } from '../../core/drift/driftInterpolator.js';
import type { DriftInterpolator, DriftTrace } from '../../core/types.js';
import type { DriftPlotData } from '../../plot/driftPlot.js';
import { autoOr, defineModule, type ParamDecl, type ParamValues, type RunContext, schemas } from '../declare.js';

/** Points per plotted interpolated curve. */
const CURVE_POINTS = 1500;

/** Spline parameters shared by Drift_Interpolate and Drift_Load_Interpolate. */
export const splineParams = {
  degree_of_spline: {
    schema: schemas.degree,
    default: DRIFT_INTERPOLATION_DEFAULTS.degree,
    description: 'degree of the smoothing spline, 1 (linear) … 5',
    flag: 'degree',
  },
  smoothing_factor: {
    schema: autoOr(schemas.number),
    default: DRIFT_INTERPOLATION_DEFAULTS.smoothing,
    cliDefault: 'auto',
    unit: 'nm²',
    description:
      "FITPACK smoothing factor s: the spline's sum of squared residuals per axis; negative = number of samples (SciPy's default), 0 interpolates; " +
      "'auto': a cubic smoothing spline whose strength cross-validation picks from the samples (weighted by their standard errors when known)",
    flag: 'smoothing',
  },
  extrapolation: {
    schema: schemas.extrapolation,
    default: DRIFT_INTERPOLATION_DEFAULTS.extrapolation,
    description:
      "beyond the first/last sample: 'linear' continues the end value along the end slope, 'spline' extrapolates the end polynomial (the original), 'constant' holds the end value",
    flag: 'extrapolation',
  },
} satisfies Record<string, ParamDecl>;

export function buildInterpolator(ctx: RunContext, traces: DriftTrace[], params: ParamValues<typeof splineParams>): DriftInterpolator {
  return createDriftInterpolator(traces, {
    degree: params.degree_of_spline,
    smoothing: params.smoothing_factor,
    extrapolation: params.extrapolation,
    reporter: ctx.progress,
  });
}

/**
 * Plot data: each source's samples and the summed curve, with its ±2 sd band when the samples
 * carry standard errors, and the x–y trajectory. `frames` (the data's first and last frame)
 * extends the curve over the whole acquisition: the part beyond the samples is extrapolated and
 * drawn so.
 */
export function interpolatorPlot(
  interp: DriftInterpolator,
  labels: string[],
  title: string,
  { frames, subtitle }: { frames?: readonly [number, number]; subtitle?: string } = {},
): DriftPlotData {
  const a = Math.min(interp.range[0], frames?.[0] ?? Infinity);
  const b = Math.max(interp.range[1], frames?.[1] ?? -Infinity);
  const ts = Float64Array.from({ length: CURVE_POINTS }, (_, i) => a + ((b - a) * i) / (CURVE_POINTS - 1));
  // The samples' ends are curve points too, so the solid and the dashed parts meet.
  const withEnds = Float64Array.from(new Set([...ts, ...interp.range].filter((t) => t >= a && t <= b))).sort();
  const curveSd = interp.evaluateSd?.(withEnds);
  return {
    sources: interp.sources.map((trace, i) => ({ label: labels[i] ?? `samples ${i + 1}`, trace })),
    curve: { label: curveSd ? 'interpolated (band ±2 sd)' : 'interpolated', trace: interp.evaluate(withEnds) },
    curveSd,
    measuredRange: interp.range,
    trajectory: true,
    title,
    subtitle,
  };
}

export const driftInterpolate = defineModule({
  name: 'chung_cc.Drift_Interpolate',
  summary: 'Smooth and interpolate drift samples with a FITPACK smoothing spline per axis.',
  inputs: { input_drift_raw: { kind: 'drift', default: 'drift_raw', description: 'drift samples (from Locs_RCC or Image_RCC)' } },
  outputs: {
    output_drift_interpolator: { kind: 'interpolator', default: 'drift_interpolator', description: 'the drift at any frame (correction to add)' },
    output_drift_plot: { kind: 'plot', default: 'drift_plot', description: 'samples and interpolated curve' },
  },
  params: splineParams,
  async run(ctx, inputs, params) {
    const trace = inputs.input_drift_raw;
    const interp = buildInterpolator(ctx, [trace], params);
    return {
      output_drift_interpolator: interp,
      output_drift_plot: interpolatorPlot(interp, ['measured'], ctx.inputName ? `Drift of ${ctx.inputName}` : 'Drift'),
    };
  },
});
