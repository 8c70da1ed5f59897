import { estimateDriftFromImages } from '../../core/drift/estimateDriftFromImages.js';
import type { DriftPlotData } from '../../plot/driftPlot.js';
import { autoOr, defineModule, DETAILS_KEY, REPORT_KEY, schemas } from '../declare.js';
import { locsRcc, sharedRccOptions, type CrossCorrelationStack } from './locsRcc.js';

function formatNm(v: number): string {
  return v >= 10 ? v.toFixed(0) : v.toPrecision(2);
}

/** The RCC parameters Image_RCC shares with Locs_RCC (one declaration, one default). */

export const imageRcc = defineModule({
  name: 'chung_cc.Image_RCC',
  summary: 'Measure drift of an image stack by redundant cross-correlation of its time points (one image or volume per time point; pre-filter first).',
  inputs: { input_image: { kind: 'image', default: 'input', description: 'image stack, usually pre-filtered (Image_Pre_Clip&Filter, Image_Pre_Downsample)' } },
  outputs: {
    output_drift: { kind: 'drift', default: 'drift', description: 'drift samples: the correction to add (nm) at each time point (binning-aware frame times)' },
    output_cross_cor: {
      kind: 'cross-correlation',
      default: 'cross_cor',
      description: 'stack of thresholded correlation images, one per pair (when debug_cor_file or a save asks for it)',
      onRequest: true,
    },
    output_drift_plot: { kind: 'plot', default: 'drift_plot', description: 'plot of the measured drift samples' },
  },
  params: {
    // The parameters Locs_RCC has too, as it declares them (shift_max and corr_window differ below).
    method: locsRcc.params.method,
    debug_cor_file: locsRcc.params.debug_cor_file,
    cache_fft: locsRcc.params.cache_fft,
    multiprocessing: locsRcc.params.multiprocessing,
    shift_max: {
      ...locsRcc.params.shift_max,
      schema: autoOr(schemas.positiveNumber),
      default: 'auto',
      description:
        "RCC drops pair rows whose residual exceeds this, in nm (not pixels, as the original had it), while the system keeps full rank; 'auto': 3 × the median residual, so only outliers go",
    },
    corr_window: {
      ...locsRcc.params.corr_window,
      schema: autoOr(schemas.wholeNumber),
      default: 'auto',
      description:
        "correlate time points at most this far apart (≤ 0: all pairs); 'auto': all pairs up to 5000 pairs (100 time points), else the widest window within that many",
    },
  },
  async run(ctx, inputs, params) {
    const stack = inputs.input_image;
    const result = await estimateDriftFromImages(stack, sharedRccOptions(ctx, params), { executor: ctx.executor, progress: ctx.progress });
    const plot: DriftPlotData = {
      sources: [{ label: 'measured (RCC)', trace: result.drift }],
      title: ctx.inputName ? `Measured drift of ${ctx.inputName}` : 'Measured drift',
    };
    const crossCor: CrossCorrelationStack | undefined = result.correlations && {
      images: result.correlations,
      shape: result.regionShape,
      pairs: result.pairs,
      pixelSizeNm: [...stack.voxelSizeNm],
    };
    const s = result.solution;
    const used = s.used.reduce((a, b) => a + b, 0);
    const report =
      `${stack.frames} time points of ${stack.width}×${stack.height}${stack.depth > 1 ? `×${stack.depth}` : ''} pixels ` +
      `(${stack.voxelSizeNm.slice(0, stack.depth > 1 ? 3 : 2).join('×')} nm), ${result.pairs.length / 2} pairs` +
      (params.corr_window === 'auto' ? ` (${result.corrWindow === 0 ? 'all' : `corr_window ${result.corrWindow}`})` : '') +
      `, ${used} used` +
      (s.rejected ? `, ${s.rejected} rejected by RCC (residual > ${formatNm(s.shiftMax)} nm${params.shift_max === 'auto' ? ', auto' : ''})` : '');
    return { output_drift: result.drift, output_cross_cor: crossCor, output_drift_plot: plot, [REPORT_KEY]: report, [DETAILS_KEY]: result };
  },
});
