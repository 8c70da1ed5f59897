import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { readDriftFile } from '../../io/driftFiles.js';
import { defineModule } from '../declare.js';
import { buildInterpolator, interpolatorPlot, splineParams } from './driftInterpolate.js';

export const driftLoadInterpolate = defineModule({
  name: 'chung_cc.Drift_Load_Interpolate',
  summary: 'Load one or more drift .npz files; the interpolator is the sum of their splines (drifts measured in stages add up).',
  inputs: { input_dummy: { kind: 'any', default: 'input', description: 'any slot that must exist first (scheduling only)' } },
  outputs: {
    output_drift_interpolator: { kind: 'interpolator', default: 'drift_interpolator', description: 'summed drift at any frame' },
    output_drift_plot: { kind: 'plot', default: 'drift_plot', description: "every file's samples and the summed curve" },
  },
  params: {
    load_paths: {
      schema: z.array(z.string()).min(1),
      default: ['drift.npz'],
      description: "drift files (.npz; also ccdrift's per-frame .csv and ThunderSTORM's .json in nm), relative to the working directory",
      flag: 'drift',
    },
    pixel_size: {
      schema: z.number().min(0),
      default: 0,
      unit: 'nm',
      description: "camera pixel size for drift files in pixels (Picasso's .txt); 0: such files are refused",
    },
    ...splineParams,
  },
  async run(ctx, _inputs, params) {
    const paths = params.load_paths.map((p) => (isAbsolute(p) ? p : resolve(ctx.cwd, p)));
    // .npz as the original; ccdrift's per-frame .csv, ThunderSTORM's .json (nm) and Picasso's .txt (pixel_size) load too.
    const traces = await Promise.all(paths.map(async (p) => (await readDriftFile(p, { pixelSizeNm: params.pixel_size || undefined })).trace));
    const interp = buildInterpolator(ctx, traces, params);
    return {
      output_drift_interpolator: interp,
      output_drift_plot: interpolatorPlot(interp, params.load_paths, `Loaded drift: ${params.load_paths.map((p) => p.split(/[\\/]/).pop()).join(' + ')}`),
    };
  },
});
