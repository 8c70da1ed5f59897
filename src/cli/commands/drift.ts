import type { Command } from 'commander';
import { sampleDriftPerFrame } from '../../core/drift/driftInterpolator.js';
import { UsageError } from '../../core/errors.js';
import { writeDriftPlot } from '../../io/plotFile.js';
import { accepts, optionalFile, planOutputs } from '../outputPlan.js';
import { driftLoadInterpolate } from '../../recipes/modules/driftLoadInterpolate.js';
import { makeRunContext } from '../context.js';
import { addModuleFlags, paramsFromFlags, parsePositiveFlag } from '../flags.js';
import { say, writePerFrameOutputs, sayWritten } from '../output.js';
import { checkDriftFileExtension, readDriftFile } from '../../io/driftFiles.js';
import { extensionOf } from '../../io/index.js';
import { buildInterpolator, interpolatorPlot, splineParams } from '../../recipes/modules/driftInterpolate.js';

interface DriftOptions {
  frames?: string;
  output?: string;
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

/** What `ccdrift drift --help` says about each drift file (also in the README). */
export const DRIFT_FILES_HELP = `
Drift files, read (--drift, inputs) and written (-o), by extension:
  .npz   PYME plugin / ccdrift: samples tIndex (frames, 0-based) and drift (n×3, nm); the correction to ADD
         (x_corrected = x + drift). ccdrift adds drift_sd and breaks; the original ignores them.
  .csv   ccdrift per frame: t,x,y,z in nm, the correction to ADD; t 0-based, or a 'frame' column counting
         from 1 when the table was ThunderSTORM's.
  .txt   Picasso _drift.txt: one row per frame from frame 0, 'x y [z]', the drift Picasso SUBTRACTS,
         x and y in camera pixels, z in nm (CRLF; written as numpy's %.18e). Needs the pixel size:
         --pixel-size, or the Picasso .yaml / PYME metadata of the table being corrected.
  .json  ThunderSTORM drift (Drift correction → Save to file / Load from file): splines of the frame
         (1-based), the drift ThunderSTORM SUBTRACTS, in its 'units' (ccdrift writes NANOMETER); 2D only.
Without -o the per-frame table (t,x,y,z nm, correction to add) goes to stdout.`;

export function registerDriftCommand(program: Command): void {
  const cmd = program
    .command('drift')
    .description('the interpolated drift (correction to add, nm) at every frame, from one or more drift files (summed); converts between drift files')
    .argument('<files...>', 'drift files: .npz, Picasso .txt, per-frame .csv, ThunderSTORM .json')
    .option('--frames <first:end>', "frame range, end exclusive (default: the samples' range; from 0 for a Picasso .txt)")
    .option(
      '-o, --output <file>',
      '.csv (t,x,y,z nm), Picasso .txt (camera pixels; needs --pixel-size), ThunderSTORM .json, or .npz; default: the table on stdout',
    )
    .option('--pixel-size <nm>', 'camera pixel size for Picasso .txt (in or out) and pixel-unit ThunderSTORM files', (v) => parsePositiveFlag('pixel-size', v))
    .option('--dims <2|3>', 'columns in a Picasso .txt (default: 3 when any z drift is non-zero)')
    .option('--plot <file>', 'plot of the samples and the summed curve (.png/.svg)')
    .option('-q, --quiet', 'no messages')
    .addHelpText('after', DRIFT_FILES_HELP);
  addModuleFlags(cmd, driftLoadInterpolate);
  cmd.action(async (files: string[], opts: DriftOptions) => {
    for (const f of files) checkDriftFileExtension(f, 'input');
    await planOutputs(
      files,
      [
        ...optionalFile(opts.output, '-o', opts.output ? accepts.perFrame(opts.output, opts.pixelSize) : undefined),
        ...optionalFile(opts.plot, '--plot', opts.plot ? accepts.plot(opts.plot) : undefined),
      ],
      [],
      (m) => say(opts, m),
    );
    const loaded = await Promise.all(files.map((p) => readDriftFile(p, { pixelSizeNm: opts.pixelSize })));
    // Per-frame files are interpolated as they are (see `apply`); samples as the original does.
    const overrides: Record<string, unknown> = { load_paths: files };
    const allPerFrame = loaded.every((f) => f.perFrame);
    if (cmd.getOptionValueSource('smoothing') === 'default') {
      overrides.smoothing_factor = allPerFrame ? 0 : loaded.every((f) => f.trace.sd) ? 'auto' : splineParams.smoothing_factor.default;
    }
    if (cmd.getOptionValueSource('degree') === 'default' && allPerFrame) overrides.degree_of_spline = 1;
    const params = paramsFromFlags(driftLoadInterpolate, opts as unknown as Record<string, unknown>, overrides);
    const ctx = makeRunContext({ quiet: opts.quiet, workers: 1 });
    const interp = buildInterpolator(
      ctx,
      loaded.map((f) => f.trace),
      params,
    );
    const toTxt = opts.output !== undefined && extensionOf(opts.output) === '.txt';
    const [a, b] = opts.frames ? parseFrameRange(opts.frames) : [toTxt ? 0 : Math.floor(interp.range[0]), Math.floor(interp.range[1]) + 1];
    const trace = sampleDriftPerFrame(interp, a, b - 1);
    const is3d = opts.dims ? opts.dims === '3' : trace.z.some((v) => v !== 0);
    // Frames are counted as the inputs counted them (ThunderSTORM's from 1).
    const frameBase = loaded.every((f) => f.frameBase === 1) ? 1 : 0;
    const sd = interp.evaluateSd?.(trace.t);
    if (opts.output) {
      await writePerFrameOutputs(opts.output, trace, opts.pixelSize, is3d, { frameBase, inputs: files, sd });
      sayWritten(opts, `wrote ${opts.output}: frames ${a + frameBase}–${b - 1 + frameBase}`);
    } else {
      const lines = [(frameBase === 1 ? 'frame,x,y,z' : 't,x,y,z') + (sd ? ',sd_x,sd_y,sd_z' : '')];
      for (let i = 0; i < trace.t.length; i++) {
        lines.push(`${trace.t[i] + frameBase},${trace.x[i]},${trace.y[i]},${trace.z[i]}` + (sd ? `,${sd.x[i]},${sd.y[i]},${sd.z[i]}` : ''));
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (opts.plot) {
      await writeDriftPlot(opts.plot, interpolatorPlot(interp, files, 'Loaded drift'));
      sayWritten(opts, `wrote ${opts.plot}`);
    }
  });
}
