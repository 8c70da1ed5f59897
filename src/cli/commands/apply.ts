import type { Command } from 'commander';
import type { DriftInterpolator, LocTable } from '../../core/types.js';
import { isImagePath, readTable, writeImageStack, writeTable } from '../../io/index.js';
import { applyDriftToStack } from '../../core/image/applyDriftToStack.js';
import { imagePostShift } from '../../recipes/modules/imagePostShift.js';
import { parseTriple, readStackForCli } from './images.js';
import { writeDriftPlot } from '../../io/plotFile.js';
import { accepts, optionalFile, planOutputs } from '../outputPlan.js';
import { driftLoadInterpolate } from '../../recipes/modules/driftLoadInterpolate.js';
import { splineParams } from '../../recipes/modules/driftInterpolate.js';
import { readDriftNpz } from '../../io/npz.js';
import { locsPostShift } from '../../recipes/modules/locsPostShift.js';
import { makeRunContext } from '../context.js';
import { addModuleFlags, paramsFromFlags, parseNumberFlag } from '../flags.js';
import { provenanceOf, say, withFrameProgress } from '../output.js';

interface ApplyOptions {
  drift: string[];
  output: string;
  plot?: string;
  pixelSize?: number;
  table?: string;
  quiet?: boolean;
  padding?: number;
  float?: boolean;
  voxelSize?: [number, number, number];
}

export function registerApplyCommand(program: Command): void {
  const cmd = program
    .command('apply')
    .description('correct a table or an image stack with drift file(s) (several files add up, as drift measured in stages does)')
    .argument('<input>', 'localization file, or an image stack (.tif/.h5: every frame is shifted by the drift at its time)')
    .requiredOption('--drift <file.npz>', 'drift samples (.npz, correction convention); repeat to sum several', (v: string, prev: string[] = []) => [...prev, v])
    .requiredOption('-o, --output <file>', 'corrected output (format from the extension)')
    .option('--plot <file>', 'plot of the loaded samples and the summed curve (.png/.svg)')
    .option('--pixel-size <nm>', 'camera pixel size in nm, for Picasso files', (v) => parseNumberFlag('pixel-size', v))
    .option('--table <name>', 'table inside an HDF5 file with several')
    .option('--padding <n>', `image stacks: zero padding for the Fourier shift, in frame sizes (default ${imagePostShift.params.padding_multipler.default})`, (v) => parseNumberFlag('padding', v))
    .option('--float', 'image stacks: write float32 frames instead of the input dtype')
    .option('--voxel-size <x,y,z>', 'image stacks: voxel size in nm when the file does not say', (v) => parseTriple('voxel-size', v))
    .option('-q, --quiet', 'no messages');
  addModuleFlags(cmd, driftLoadInterpolate);
  cmd.action(async (input: string, opts: ApplyOptions) => {
    // Without --smoothing: 'auto' for ccdrift's own fine-stage files (marked `refined`, as
    // `ccdrift locs` smoothed them), the original's SciPy default for any other drift file.
    const overrides: Record<string, unknown> = { load_paths: opts.drift };
    if (cmd.getOptionValueSource('smoothing') === 'default') {
      const traces = await Promise.all(opts.drift.map((p) => readDriftNpz(p)));
      overrides.smoothing_factor = traces.every((t) => t.refined) ? 'auto' : splineParams.smoothing_factor.default;
    }
    const params = paramsFromFlags(driftLoadInterpolate, opts as unknown as Record<string, unknown>, overrides);
    await planOutputs(
      [input, ...opts.drift],
      [
        { path: opts.output, what: '-o', check: isImagePath(input) ? accepts.image(opts.output) : accepts.table(opts.output) },
        ...optionalFile(opts.plot, '--plot', opts.plot ? accepts.plot(opts.plot) : undefined),
      ], [], (m) => say(opts, m));
    const ctx = makeRunContext({ quiet: opts.quiet, workers: 1 });
    const loaded = await driftLoadInterpolate.run(ctx, {}, params);
    const interp = loaded.output_drift_interpolator as DriftInterpolator;
    if (opts.plot) {
      await writeDriftPlot(opts.plot, loaded.output_drift_plot as never);
      say(opts, `wrote ${opts.plot}`);
    }
    if (isImagePath(input)) {
      const stack = await readStackForCli(input, opts.voxelSize);
      const padding = opts.padding ?? (imagePostShift.params.padding_multipler.default as number);
      // Image_Post_Shift warns (through ctx.progress) when frame times reach beyond the samples.
      const corrected = applyDriftToStack(stack, interp, { paddingMultiplier: padding, floatOutput: opts.float }, { progress: ctx.progress });
      Object.assign(corrected.metadata, provenanceOf('apply', params, input).metadata);
      try {
        const written = await writeImageStack(opts.output, withFrameProgress(corrected, ctx.progress), { inputs: [input, ...opts.drift] });
        say(opts, `wrote ${written.join(', ')}`);
      } finally {
        corrected.dispose();
      }
      return;
    }
    const table: LocTable = await readTable(input, { pixelSizeNm: opts.pixelSize, table: opts.table, progress: ctx.progress });
    const [a, b] = interp.range;
    const t = table.columns.get('t');
    if (t) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of t) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      if (lo < a || hi > b) {
        ctx.progress?.warn?.(`frames ${lo}–${hi} reach beyond the drift samples (${a}–${b}); extrapolating (${params.extrapolation})`);
      }
    }
    const corrected = (await locsPostShift.run(ctx, { input_localizations: table, input_drift_interpolator: interp }, {})).output_name as LocTable;
    const provenance = provenanceOf('apply', params, input);
    Object.assign(corrected.metadata, provenance.metadata);
    const written = await writeTable(opts.output, corrected, { inputs: [input, ...opts.drift], pixelSizeNm: opts.pixelSize, provenance: provenance.record, progress: ctx.progress });
    say(opts, `wrote ${written.join(', ')}`);
  });
}
