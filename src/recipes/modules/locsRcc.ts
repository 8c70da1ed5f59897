import { estimateDriftFromLocs } from '../../core/drift/estimateDriftFromLocs.js';
import { createDriftInterpolator } from '../../core/drift/driftInterpolator.js';
import { applyDriftToTable } from '../../core/drift/applyDriftToTable.js';
import type { DriftPlotData } from '../../plot/driftPlot.js';
import { z } from 'zod';
import { createYielder } from '../../core/registration/yieldNow.js';
import { autoOr, defineModule, DETAILS_KEY, REPORT_KEY, type RunContext, schemas } from '../declare.js';

/** The correlation debug stack: one thresholded correlation image per pair. */
export interface CrossCorrelationStack {
  images: Float32Array[];
  shape: [number, number, number];
  pairs: Int32Array;
  /** Size of one correlation pixel (x, y, z) in nm: the bin size, or the voxel size for images. */
  pixelSizeNm: [number, number, number];
}

/** The `breaks` parameter: 'auto', 'none' or a comma-separated list of frames. */
export function parseBreaks(text: string): number[] | 'auto' | 'none' {
  const v = text.trim();
  if (v === 'auto' || v === 'none') return v;
  return v.split(',').map((f) => Number(f.trim()));
}

/** The RCC options Locs_RCC and Image_RCC share, from recipe parameters (names as the original's). */
export function sharedRccOptions(
  ctx: RunContext,
  params: { method: 'RCC' | 'MCC' | 'DCC'; shift_max: number | 'auto'; corr_window: number | 'auto'; debug_cor_file: string },
) {
  return {
    method: params.method,
    shiftMaxNm: params.shift_max,
    corrWindow: params.corr_window,
    // The correlation stack is an on-request output (undefined wantedOutputs does not ask).
    keepCorrelations: params.debug_cor_file !== '' || (ctx.wantedOutputs?.has('output_cross_cor') ?? false),
  };
}

export const locsRcc = defineModule({
  name: 'chung_cc.Locs_RCC',
  summary: 'Measure drift from localizations by redundant cross-correlation of time-window histograms (Wang et al. 2014).',
  inputs: {
    input_for_correction: { kind: 'table', default: 'Localizations', description: 'table the drift is measured on (x, y[, z] nm, t frames)' },
  },
  outputs: {
    output_drift: { kind: 'drift', default: 'drift', description: 'drift samples: the correction to add (nm) at each window centre' },
    output_cross_cor: {
      kind: 'cross-correlation',
      default: 'cross_cor',
      description: 'stack of thresholded correlation images, one per pair (when debug_cor_file or a save asks for it)',
      onRequest: true,
    },
    output_drift_plot: { kind: 'plot', default: 'drift_plot', description: 'plot of the measured drift samples' },
    outputName: {
      kind: 'table',
      // Not 'corrected_localizations': that is Locs_Post_Shift's default, and a minimal recipe must not produce it twice.
      default: 'dump_corrected_localizations',
      description: '(legacy) the input corrected by an interpolating cubic spline through the samples',
      onRequest: true,
    },
  },
  params: {
    step: {
      schema: autoOr(schemas.positiveNumber),
      default: 2500,
      cliDefault: 'auto',
      unit: 'frames',
      description:
        "frames between the starts of consecutive time windows; 'auto' (with window auto): windows of equal localization count, ~3000 each, 10–60 (10–25 with the fine stage)",
      flag: 'step',
    },
    window: {
      schema: autoOr(schemas.positiveNumber),
      default: 2500,
      cliDefault: 'auto',
      unit: 'frames',
      description: "frames each time window spans (≥ step); 'auto': the step",
      flag: 'window',
    },
    binsize: {
      schema: autoOr(schemas.positiveNumber),
      default: 30,
      cliDefault: 'auto',
      unit: 'nm',
      description: "histogram bin size; 'auto': 1.3 × the localization precision (4 × with the fine stage), from error_x/error_y, uncertainty, lpx/lpy or NeNA",
      flag: 'binsize',
    },
    refine: {
      schema: schemas.boolean,
      default: false,
      description:
        'after RCC, the fine stage: ~100-frame segments registered against a leave-one-out reference of all other localizations near the RCC drift, ' +
        'repeated until the drift changes by < 0.05 nm; resolves drift faster than the windows, and jumps (the CLI turns it on; --refine off)',
    },
    breaks: {
      schema: z.string().regex(/^(auto|none|\s*\d+(\s*,\s*\d+)*\s*)$/, "'auto', 'none' or frames separated by commas"),
      default: 'auto',
      description: "with refine: frames where the drift jumps — 'auto' (detected), 'none', or frames like '12000,20000'",
    },
    flatten_z: { schema: schemas.boolean, default: false, description: 'ignore z: one z bin even for 3D data', flag: 'flatten-z' },
    tukey_size: {
      schema: schemas.fraction,
      default: 0.25,
      description: 'shape of the Tukey window applied to each histogram (0 none … 1 Hann)',
      flag: 'tukey-size',
    },
    method: {
      schema: schemas.method,
      default: 'RCC',
      description: 'RCC (redundant, outlier rejection), MCC (redundant, no rejection) or DCC (each window against the first)',
      flag: 'method',
    },
    shift_max: {
      schema: autoOr(schemas.positiveNumber),
      default: 5,
      cliDefault: 'auto',
      unit: 'nm',
      description: "RCC drops pair rows whose residual exceeds this (while the system keeps full rank); 'auto': 3 × the median residual",
      flag: 'shift-max',
    },
    corr_window: {
      schema: autoOr(schemas.wholeNumber),
      default: 5,
      cliDefault: 'auto',
      unit: 'windows',
      description: "correlate windows at most this far apart (≤ 0: all pairs); 'auto': all pairs up to 5000",
      flag: 'corr-window',
    },
    debug_cor_file: {
      schema: schemas.path,
      default: '',
      description: "TIFF file for the stack of thresholded correlation images ('' = off)",
      flag: 'debug-cor-file',
      savesOutput: 'output_cross_cor',
    },
    cache_fft: {
      schema: schemas.path,
      default: '',
      description: "file to keep the window spectra in instead of memory ('' = memory, spilling to a temporary file beyond --memory-budget)",
      flag: 'cache-fft',
    },
    multiprocessing: {
      schema: schemas.boolean,
      default: false,
      description: 'accepted for compatibility',
      compatibility: 'ignored: ccdrift always correlates on a pool of worker threads (--workers, default all cores)',
    },
    input_for_mapping: {
      schema: schemas.path,
      default: '',
      description: 'accepted for compatibility',
      compatibility: 'ignored: the legacy outputName table is the input_for_correction table corrected',
    },
  },
  async run(ctx, inputs, params) {
    const table = inputs.input_for_correction;
    const wanted = (output: string) => ctx.wantedOutputs?.has(output) ?? true;
    // The whole table: its precision columns (error_x, uncertainty, lpx) set the automatic bin.
    const result = await estimateDriftFromLocs(
      table,
      {
        stepFrames: params.step,
        windowFrames: params.window,
        binSizeNm: params.binsize,
        flattenZ: params.flatten_z,
        tukeySize: params.tukey_size,
        ...sharedRccOptions(ctx, params),
        refine: params.refine,
        breaks: parseBreaks(params.breaks),
      },
      { executor: ctx.executor, progress: ctx.progress, yieldNow: createYielder() },
    );
    const plot: DriftPlotData = {
      sources: [{ label: 'measured (RCC)', trace: result.drift }],
      title: ctx.inputName ? `Measured drift of ${ctx.inputName}` : 'Measured drift',
      subtitle: result.choices.summary,
    };
    // The original's legacy output: corrected by an interpolating cubic spline through the samples.
    const legacy = wanted('outputName')
      ? applyDriftToTable(table, createDriftInterpolator([result.drift], { degree: 3, smoothing: 0, extrapolation: 'spline' }))
      : undefined;
    const crossCor: CrossCorrelationStack | undefined = result.correlations && {
      images: result.correlations,
      shape: result.regionShape,
      pairs: result.pairs,
      pixelSizeNm: [result.grid.binSizeNm, result.grid.binSizeNm, result.grid.binSizeNm],
    };
    const s = result.solution;
    const used = s.used.reduce((a, b) => a + b, 0);
    const report =
      `${result.choices.summary}` +
      (result.measuredWindows.length < result.windows.length ? ` (${result.windows.length - result.measuredWindows.length} windows left out)` : '') +
      '; ' +
      `grid ${result.grid.bins.join('×')} bins (${result.fromPoints ? 'correlated from points' : `FFT ${Object.values(result.plan.fftShape).join('×')}`}), ` +
      `${result.pairs.length / 2} pairs, ${used} used` +
      (s.rejected ? `, ${s.rejected} rejected by RCC (residual > ${s.shiftMax.toFixed(1)} nm)` : '');
    return { output_drift: result.drift, output_cross_cor: crossCor, output_drift_plot: plot, outputName: legacy, [REPORT_KEY]: report, [DETAILS_KEY]: result };
  },
});
