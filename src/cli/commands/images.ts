import type { Command } from 'commander';
import { checkFourierShiftMemory } from '../../core/shift/fourierShift.js';
import { basename } from 'node:path';
import { InputError, UsageError } from '../../core/errors.js';
import type { ImageStack } from '../../core/types.js';
import { findImageFormat, readImageStack, writeImageStack } from '../../io/index.js';
import {
  batchInputs,
  checkBatchPlans,
  driftSpan,
  DRIFT_SUFFIX,
  inOutDir,
  makeOutputFolders,
  outputBeside,
  perInputPath,
  refuseExisting,
  removeStaleOutputs,
  runBatch,
  UNDRIFT_SUFFIX,
  type BatchPlan,
} from '../batch.js';
import { defaultTableExtension, checkOutDir, PLOT_EXTS } from './locs.js';
import { driftNpzPath, writeDriftNpz } from '../../io/npz.js';
import { accepts, checkOutputPlan, optionalFile, planOutputs } from '../outputPlan.js';
import { withOutputBatch } from '../../io/atomic.js';
import { writeDriftPlot } from '../../io/plotFile.js';
import { detailsOf, reportOf } from '../../recipes/declare.js';
import { buildImagesPlan, downsampleChanges, IMAGE_SLOT, IMAGES_SLOTS, runCommandPlan } from '../../recipes/plans.js';
import { shortName } from '../../recipes/registry.js';
import { disposeSlotValue, outputValue, slotValue } from '../../recipes/runRecipe.js';
import { addSaveRecipeOption, recipeFile, writeRecipeFile } from '../runPlan.js';
import { collectWarnings, imagesReportData, writeReport } from '../report.js';
import { driftInterpolate, interpolatorPlot } from '../../recipes/modules/driftInterpolate.js';
import { imagePostShift } from '../../recipes/modules/imagePostShift.js';
import { imagePreClipFilter } from '../../recipes/modules/imagePreClipFilter.js';
import { imagePreDownsample } from '../../recipes/modules/imagePreDownsample.js';
import { imageRcc } from '../../recipes/modules/imageRcc.js';
import { addCommonOptions, makeRunContext, type CommonOptions } from '../context.js';
import { addModuleFlags, paramsFromFlags, parseNumberFlag, parseNonNegativeFlag } from '../flags.js';
import { provenanceOf, say, withFrameProgress, writeDebugCorrelations, sayWritten } from '../output.js';

interface ImagesOptions extends CommonOptions {
  output?: string;
  outDir?: string;
  force?: boolean;
  driftOut?: string;
  plot?: string;
  prefilter: boolean;
  bin?: [number, number, number];
  xStart?: number;
  xEnd?: number;
  yStart?: number;
  yEnd?: number;
  padding?: number;
  voxelSize?: [number, number, number];
  float?: boolean;
  report?: string;
  saveRecipe?: string;
}

/** "a,b,c" → three numbers (voxel sizes, bins). */
export function parseTriple(flag: string, text: string): [number, number, number] {
  const parts = text.split(',').map((s) => s.trim());
  const v = parts.map(Number);
  if (parts.length !== 3 || v.some((x, i) => parts[i] === '' || !Number.isFinite(x))) {
    throw new UsageError(`--${flag} expects three comma-separated numbers (x,y,${flag === 'bin' ? 't' : 'z'}), got '${text}'`);
  }
  return v as [number, number, number];
}

/** Read a stack and, with --voxel-size, check or supply its calibration. */
export async function readStackForCli(path: string, voxelSizeNm?: [number, number, number]): Promise<ImageStack> {
  return readImageStack(path, { voxelSizeNm });
}

export function registerImagesCommand(program: Command): void {
  const cmd = program
    .command('images')
    .summary('measure the drift of image stacks by RCC and shift their frames')
    .description(
      'measure the drift of image stacks (pre-filtered, optionally binned) by RCC and shift the original frames by it. Without -o: <name>_undrift.<ext> and <name>_drift.npz beside each input, or in --out-dir',
    )
    .argument('<inputs...>', "image stacks (.tif/.tiff, PYME .h5) or quoted globs ('day1/*.tif')")
    .option('-o, --output <file>', 'corrected stack, for one input (.tif or .h5; same dtype as the input unless --float); default <name>_undrift.<ext>')
    .option('--out-dir <dir>', 'folder for the default outputs (created if missing); default: beside each input')
    .option('--force', 'replace default outputs that exist already')
    .option('--drift-out <file.npz>', 'write the measured drift samples (.npz); default without -o: <name>_drift.npz')
    .option('--plot <file>', 'drift plot, .png or .svg (several inputs: png or svg gives <name>_drift.png each)')
    .option('--no-prefilter', 'measure on the raw frames (skip Image_Pre_Clip&Filter)')
    .option('--bin <x,y,t>', 'bin pixels and time points before measuring (Image_Pre_Downsample binsize)', (v) => parseTriple('bin', v))
    .option('--x-start <px>', 'crop before measuring: first x pixel', (v) => parseNumberFlag('x-start', v))
    .option('--x-end <px>', 'crop: end of the x range (exclusive; −1 = through the last pixel)', (v) => parseNumberFlag('x-end', v))
    .option('--y-start <px>', 'crop: first y pixel', (v) => parseNumberFlag('y-start', v))
    .option('--y-end <px>', 'crop: end of the y range', (v) => parseNumberFlag('y-end', v))
    .option('--padding <n>', `zero padding for the Fourier shift, in frame sizes (default ${String(imagePostShift.params.padding_multipler.default)})`, (v) =>
      parseNonNegativeFlag('padding', v),
    )
    .option('--voxel-size <x,y,z>', 'voxel size in nm when the file does not say (must agree when it does)', (v) => parseTriple('voxel-size', v))
    .option('--float', 'write float32 frames instead of the input dtype')
    .option('--report <file.html>', 'a self-contained HTML report: input, parameters, drift with its uncertainty, pairs, warnings, before/after, FRC');
  addModuleFlags(cmd, imagePreClipFilter);
  addModuleFlags(cmd, imageRcc);
  addModuleFlags(cmd, driftInterpolate);
  addSaveRecipeOption(cmd, 'ccdrift images');
  addCommonOptions(cmd);
  cmd.action(async (args: string[], opts: ImagesOptions) => {
    const o = opts as unknown as Record<string, unknown>;
    const filterParams = paramsFromFlags(imagePreClipFilter, o);
    const downsampleParams = paramsFromFlags(imagePreDownsample, o, {
      ...(opts.bin && { binsize: opts.bin }),
      ...(opts.xStart !== undefined && { x_start: opts.xStart }),
      ...(opts.xEnd !== undefined && { x_end: opts.xEnd }),
      ...(opts.yStart !== undefined && { y_start: opts.yStart }),
      ...(opts.yEnd !== undefined && { y_end: opts.yEnd }),
    });
    const rccParams = paramsFromFlags(imageRcc, o);
    const splineParams = paramsFromFlags(driftInterpolate, o);
    const shiftParams = paramsFromFlags(imagePostShift, o, {
      ...(opts.padding !== undefined && { padding_multipler: opts.padding }),
      float_output: opts.float === true,
    });
    // Written into the output's metadata as before Image_Post_Shift had float_output (--float is a flag of its own).
    const { float_output: _float, ...recordedShiftParams } = shiftParams;
    const binned = downsampleChanges(downsampleParams);
    // The modules this command runs, checked before any file is read; the same plan for every input.
    const imagesPlan = buildImagesPlan({
      filter: opts.prefilter ? filterParams : undefined,
      downsample: binned ? downsampleParams : undefined,
      rcc: rccParams,
      spline: splineParams,
      shift: shiftParams,
    });
    const ctx = makeRunContext({ ...opts, cacheFft: rccParams.cache_fft });
    // RCC's threads start while the first stack is read.
    ctx.executor.warm?.();

    const { files, problems, batch } = batchInputs(
      args,
      (p) => {
        try {
          findImageFormat(p, 'read');
          return true;
        } catch {
          return false;
        }
      },
      opts.output,
      (m) => say(opts, m),
    );
    if (batch && rccParams.debug_cor_file) throw new UsageError('--debug-cor-file is for one input; run the stack you want to inspect on its own');
    checkOutDir(opts.outDir);
    const plans: (BatchPlan & { output: string; driftOut?: string; plot?: string; report?: string })[] = files.map((input) => {
      const output = opts.output ?? outputBeside(input, UNDRIFT_SUFFIX, defaultTableExtension(input, undefined), opts.outDir);
      const driftOut = opts.driftOut
        ? driftNpzPath(perInputPath('--drift-out', opts.driftOut, input, batch, opts.outDir, ['npz'])!)
        : opts.output
          ? undefined
          : outputBeside(input, DRIFT_SUFFIX, '.npz', opts.outDir);
      const plot = perInputPath('--plot', opts.plot, input, batch, opts.outDir, PLOT_EXTS);
      const report = perInputPath('--report', opts.report, input, batch, opts.outDir, ['html']);
      const outputs = inOutDir(
        [
          { path: output, what: opts.output ? '-o' : 'output', check: accepts.image(output) },
          ...optionalFile(driftOut, opts.driftOut ? '--drift-out' : 'drift file'),
          ...optionalFile(plot, '--plot', plot ? accepts.plot(plot) : undefined),
          ...optionalFile(report, '--report', report ? accepts.report(report) : undefined),
          ...optionalFile(rccParams.debug_cor_file, '--debug-cor-file', accepts.tiff('--debug-cor-file', rccParams.debug_cor_file)),
        ],
        opts.outDir,
      );
      const defaults = outputs.filter(
        (o) => o.what === 'output' || o.what === 'drift file' || (o.path === plot && plot !== opts.plot) || (o.path === report && report !== opts.report),
      );
      return { input, outputs, defaults, scratch: optionalFile(rccParams.cache_fft, '--cache-fft'), output, driftOut, plot, report };
    });
    const correctOne = async (input: string, outputPath: string, driftOut: string | undefined, plot: string | undefined, report: string | undefined) => {
      // The report lists this file's warnings: collect them while it runs.
      const progress = ctx.progress;
      const collected = collectWarnings(progress);
      if (report) ctx.progress = collected.progress;
      try {
        const stack = await readStackForCli(input, opts.voxelSize);
        checkFourierShiftMemory(stack, shiftParams.padding_multipler); // before the long work, not after it
        say(
          opts,
          `${input}: ${stack.frames} time points of ${stack.width}×${stack.height}${stack.depth > 1 ? `×${stack.depth}` : ''} ${stack.dtype}, voxel ${stack.voxelSizeNm.join('×')} nm`,
        );
        // Each module's outputs, for the report (Image_RCC's details) and --debug-cor-file.
        const outputsOf = new Map<string, Record<string, unknown>>();
        const run = await runCommandPlan(imagesPlan, { [IMAGE_SLOT]: stack }, ctx, {
          // The input stack is read again for the report after the run: not released (closed) by it.
          wantedSlots: new Set([IMAGE_SLOT, ...Object.values(IMAGES_SLOTS)]),
          onStepDone: (step, report, _seconds, outputs) => {
            if (outputs) outputsOf.set(step.decl.name, outputs);
            if (step.decl.name === imagePreClipFilter.name || step.decl.name === imageRcc.name) say(opts, `${shortName(step.decl.name)}: ${report ?? ''}`);
          },
        });
        const rcc = outputsOf.get(imageRcc.name);
        const drift = slotValue(run, IMAGES_SLOTS.drift, 'drift');
        const interp = slotValue(run, IMAGES_SLOTS.interpolator, 'interpolator');
        const corrected = slotValue(run, IMAGES_SLOTS.corrected, 'image');
        const provenance = provenanceOf('images', { ...filterParams, ...downsampleParams, ...rccParams, ...splineParams, ...recordedShiftParams }, input);
        Object.assign(corrected.metadata, provenance.metadata);
        let written: string[];
        try {
          written = await writeImageStack(outputPath, withFrameProgress(corrected, ctx.progress), { inputs: [input] });
          sayWritten(opts, `wrote ${written.join(', ')}`);
        } finally {
          disposeSlotValue(corrected);
        }
        if (driftOut) sayWritten(opts, `wrote ${await writeDriftNpz(driftOut, drift, { inputs: [input] })}`);
        const crossCor = outputValue(rcc, 'output_cross_cor', 'cross-correlation');
        if (rccParams.debug_cor_file && crossCor) {
          sayWritten(opts, `wrote ${await writeDebugCorrelations(rccParams.debug_cor_file, crossCor, [input])} (thresholded correlation, one image per pair)`);
        }
        const plotData = interpolatorPlot(interp, ['measured (Image RCC)'], `Drift of ${basename(input)}`, {
          subtitle: `${rcc ? reportOf(rcc) : ''}; smoothing ${String(splineParams.smoothing_factor)}`,
        });
        if (plot) {
          await writeDriftPlot(plot, plotData);
          sayWritten(opts, `wrote ${plot}`);
        }
        if (report) {
          const data = await imagesReportData({
            inputPath: input,
            command: ['ccdrift', ...process.argv.slice(2)].join(' '),
            stack,
            result: detailsOf(imageRcc, rcc)!,
            interp,
            plot: plotData,
            params: { ...filterParams, ...downsampleParams, ...rccParams, ...splineParams },
            warnings: collected.warnings,
            paddingMultiplier: shiftParams.padding_multipler,
          });
          await writeReport(report, data, [input]);
          sayWritten(opts, `wrote ${report}`);
        }
        return {
          rows: stack.frames,
          span: driftSpan(drift, stack.depth > 1),
          written: [...written, ...(driftOut ? [driftOut] : []), ...(plot ? [plot] : []), ...(report ? [report] : [])],
        };
      } finally {
        ctx.progress = progress;
      }
    };

    const saveRecipe = async () => {
      if (!opts.saveRecipe) return;
      await writeRecipeFile(opts.saveRecipe, imagesPlan, {
        command: 'ccdrift images',
        dataSlot: IMAGE_SLOT,
        results: `the drift is '${IMAGES_SLOTS.drift}', the corrected stack '${IMAGES_SLOTS.corrected}'`,
        inputs: files,
        quiet: opts.quiet,
      });
    };
    const recipe = inOutDir(recipeFile(opts.saveRecipe), opts.outDir);
    if (!batch) {
      if (problems.length) throw new InputError(problems[0].message);
      const plan = plans[0];
      await planOutputs([plan.input], [...plan.outputs, ...recipe], plan.scratch ?? [], (m) => say(opts, m));
      refuseExisting(plan.defaults, opts.force);
      await makeOutputFolders([...plan.outputs, ...recipe]);
      // Written with the other outputs: all or nothing.
      await saveRecipe();
      await correctOne(plan.input, plan.output, plan.driftOut, plan.plot, plan.report);
      return;
    }
    const planProblems = checkBatchPlans(plans, files, opts.force);
    await removeStaleOutputs(plans, (m) => say(opts, m));
    // One recipe for every input, in place whichever of them fails.
    checkOutputPlan(files, recipe);
    await makeOutputFolders(recipe);
    await withOutputBatch(saveRecipe, undefined, { own: true });
    await runBatch(
      plans,
      planProblems,
      problems,
      (plan) => {
        const p = plan as (typeof plans)[number];
        return correctOne(p.input, p.output, p.driftOut, p.plot, p.report);
      },
      (line) => say(opts, line),
    );
  });
}
