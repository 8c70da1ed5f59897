import type { Command } from 'commander';
import { sampleDriftPerFrame } from '../../core/drift/driftInterpolator.js';
import { UsageError } from '../../core/errors.js';
import type { DriftInterpolator } from '../../core/types.js';
import { writeDriftPlot } from '../../io/plotFile.js';
import { accepts, optionalFile, planOutputs } from '../outputPlan.js';
import { driftLoadInterpolate } from '../../recipes/modules/driftLoadInterpolate.js';
import { makeRunContext } from '../context.js';
import { addModuleFlags, paramsFromFlags, parseNumberFlag } from '../flags.js';
import { say, writePerFrameOutputs } from '../output.js';

interface DriftOptions {
  frames?: string;
  output: string;
  plot?: string;
  pixelSize?: number;
  dims?: string;
  quiet?: boolean;
}

export function parseFrameRange(text: string): [number, number] {
  const m = /^\s*(-?\d+)\s*:\s*(-?\d+)\s*$/.exec(text);
  if (!m) throw new UsageError(`--frames expects FIRST:END (end exclusive, like Python), e.g. 0:30000; got '${text}'`);
  const a = Number(m[1]);
  const b = Number(m[2]);
  if (b <= a) throw new UsageError(`--frames ${text}: the end (${b}) must be after the start (${a})`);
  return [a, b];
}

export function registerDriftCommand(program: Command): void {
  const cmd = program
    .command('drift')
    .description('the interpolated drift (correction to add, nm) at every frame, from one or more .npz files (summed)')
    .argument('<files...>', 'drift .npz files')
    .option('--frames <first:end>', 'frame range, end exclusive (default: the samples\' range)')
    .requiredOption('-o, --output <file>', '.csv (t,x,y,z nm) or Picasso .txt (camera pixels; needs --pixel-size)')
    .option('--pixel-size <nm>', 'camera pixel size for Picasso .txt', (v) => parseNumberFlag('pixel-size', v))
    .option('--dims <2|3>', 'columns in a Picasso .txt (default: 3 when any z drift is non-zero)')
    .option('--plot <file>', 'plot of the samples and the summed curve (.png/.svg)')
    .option('-q, --quiet', 'no messages');
  addModuleFlags(cmd, driftLoadInterpolate);
  cmd.action(async (files: string[], opts: DriftOptions) => {
    const params = paramsFromFlags(driftLoadInterpolate, opts as unknown as Record<string, unknown>, { load_paths: files });
    await planOutputs(files, [
      { path: opts.output, what: '-o', check: accepts.perFrame(opts.output, opts.pixelSize) },
      ...optionalFile(opts.plot, '--plot', opts.plot ? accepts.plot(opts.plot) : undefined),
    ], [], (m) => say(opts, m));
    const ctx = makeRunContext({ quiet: opts.quiet, workers: 1 });
    const loaded = await driftLoadInterpolate.run(ctx, {}, params);
    const interp = loaded.output_drift_interpolator as DriftInterpolator;
    const [a, b] = opts.frames ? parseFrameRange(opts.frames) : [Math.floor(interp.range[0]), Math.floor(interp.range[1]) + 1];
    const trace = sampleDriftPerFrame(interp, a, b - 1);
    const is3d = opts.dims ? opts.dims === '3' : trace.z.some((v) => v !== 0);
    await writePerFrameOutputs(opts.output, trace, opts.pixelSize, is3d, interp.evaluateSd?.(trace.t));
    say(opts, `wrote ${opts.output}: frames ${a}–${b - 1}`);
    if (opts.plot) {
      await writeDriftPlot(opts.plot, loaded.output_drift_plot as never);
      say(opts, `wrote ${opts.plot}`);
    }
  });
}
