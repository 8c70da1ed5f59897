import type { Command } from 'commander';
import type { DriftInterpolator, ImageStack, LocTable } from '../../core/types.js';
import { findImageFormat, findTableFormat, isImagePath, readTable, writeImageStack, writeTable } from '../../io/index.js';
import { InputError, UsageError } from '../../core/errors.js';
import { checkDriftFileExtension, readDriftFile } from '../../io/driftFiles.js';
import {
  batchInputs,
  checkBatchPlans,
  driftSpan,
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
import { imagePostShift } from '../../recipes/modules/imagePostShift.js';
import { parseTriple, readStackForCli } from './images.js';
import { writeDriftPlot } from '../../io/plotFile.js';
import { accepts, optionalFile, planOutputs } from '../outputPlan.js';
import { driftLoadInterpolate } from '../../recipes/modules/driftLoadInterpolate.js';
import { interpolatorPlot, splineParams } from '../../recipes/modules/driftInterpolate.js';
import { APPLY_SLOTS, buildApplyPlan, runCommandPlan } from '../../recipes/plans.js';
import { disposeSlotValue, slotValue } from '../../recipes/runRecipe.js';
import { addSaveRecipeOption, recipeFile, writeRecipeFile } from '../runPlan.js';
import { makeRunContext } from '../context.js';
import { addModuleFlags, paramsFromFlags, parsePositiveFlag, parseNonNegativeFlag } from '../flags.js';
import { checkPixelSizeAgreement, provenanceOf, say, tablePixelSizeNm, withFrameProgress, sayWritten } from '../output.js';

interface ApplyOptions {
  drift: string[];
  output?: string;
  outDir?: string;
  force?: boolean;
  plot?: string;
  pixelSize?: number;
  table?: string;
  quiet?: boolean;
  padding?: number;
  float?: boolean;
  voxelSize?: [number, number, number];
  saveRecipe?: string;
}

/** Can `apply` read this file (a table or a stack, by extension)? */
function readsInput(path: string): boolean {
  for (const kind of ['table', 'image'] as const) {
    try {
      if (kind === 'table') findTableFormat(path, 'read');
      else findImageFormat(path, 'read');
      return true;
    } catch {
      /* try the other kind */
    }
  }
  return false;
}

export function registerApplyCommand(program: Command): void {
  const cmd = program
    .command('apply')
    .summary('correct tables or image stacks with drift files (.npz, Picasso .txt, .csv, ThunderSTORM .json)')
    .description(
      'correct tables or image stacks with drift file(s) (several files add up, as drift measured in stages does). ' +
        'Without -o: <name>_undrift.<ext> beside each input, or in --out-dir',
    )
    .argument('<inputs...>', 'localization files, or image stacks (.tif/.h5: every frame is shifted by the drift at its time), or quoted globs')
    .requiredOption(
      '--drift <file>',
      "drift file, repeat to sum several: .npz (PYME/ccdrift samples), Picasso .txt (pixel size from the table's yaml/metadata or --pixel-size), per-frame .csv (ccdrift), ThunderSTORM .json",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('-o, --output <file>', 'corrected output, for one input (format from the extension); default <name>_undrift.<ext>')
    .option('--out-dir <dir>', 'folder for the default outputs (created if missing)')
    .option('--force', "replace default outputs that exist already; accept a --pixel-size that disagrees with the file's own")
    .option('--plot <file>', 'plot of the loaded samples and the summed curve (.png/.svg)')
    .option('--pixel-size <nm>', "camera pixel size in nm, for Picasso files and drift .txt (default: the file's own)", (v) =>
      parsePositiveFlag('pixel-size', v),
    )
    .option('--table <name>', 'table inside an HDF5 file with several')
    .option(
      '--padding <n>',
      `image stacks: zero padding for the Fourier shift, in frame sizes (default ${String(imagePostShift.params.padding_multipler.default)})`,
      (v) => parseNonNegativeFlag('padding', v),
    )
    .option('--float', 'image stacks: write float32 frames instead of the input dtype')
    .option('--voxel-size <x,y,z>', 'image stacks: voxel size in nm when the file does not say', (v) => parseTriple('voxel-size', v))
    .option('-q, --quiet', 'no messages');
  addModuleFlags(cmd, driftLoadInterpolate);
  addSaveRecipeOption(cmd, 'ccdrift apply');
  cmd.action(async (args: string[], opts: ApplyOptions) => {
    for (const d of opts.drift) checkDriftFileExtension(d, '--drift');
    const { files, problems, batch } = batchInputs(args, readsInput, opts.output, (m) => say(opts, m));
    checkOutDir(opts.outDir);
    const plans: (BatchPlan & { output: string; plot?: string })[] = files.map((input) => {
      const output = opts.output ?? outputBeside(input, UNDRIFT_SUFFIX, defaultTableExtension(input, undefined), opts.outDir);
      const plot = perInputPath('--plot', opts.plot, input, batch, opts.outDir, PLOT_EXTS);
      const outputs = inOutDir(
        [
          { path: output, what: opts.output ? '-o' : 'output', check: isImagePath(input) ? accepts.image(output) : accepts.table(output) },
          ...optionalFile(plot, '--plot', plot ? accepts.plot(plot) : undefined),
        ],
        opts.outDir,
      );
      const defaults = outputs.filter((o) => o.what === 'output' || (o.path === plot && plot !== opts.plot));
      return { input, outputs, defaults, output, plot };
    });
    const ctx = makeRunContext({ quiet: opts.quiet, workers: 1 });
    const smoothingGiven = cmd.getOptionValueSource('smoothing') !== 'default';
    const degreeGiven = cmd.getOptionValueSource('degree') !== 'default';

    /** Drift_Load_Interpolate's parameters for the --drift files, read with the input's pixel size. */
    const loadParams = async (pixelSizeNm: number | undefined) => {
      const loaded = await Promise.all(opts.drift.map((p) => readDriftFile(p, { pixelSizeNm })));
      // Defaults: per-frame files (Picasso .txt, per-frame .csv, ThunderSTORM .json) are the
      // drift at every frame already: interpolated linearly, not smoothed again. ccdrift's
      // fine-stage .npz files (marked `refined`) get 'auto', as `ccdrift locs` smoothed them;
      // any other .npz the original's SciPy default.
      const overrides: Record<string, unknown> = { load_paths: opts.drift, pixel_size: pixelSizeNm ?? 0 };
      const allPerFrame = loaded.every((f) => f.perFrame);
      if (!smoothingGiven) {
        overrides.smoothing_factor = allPerFrame ? 0 : loaded.every((f) => f.trace.refined) ? 'auto' : splineParams.smoothing_factor.default;
      }
      if (!degreeGiven && allPerFrame) overrides.degree_of_spline = 1;
      const params = paramsFromFlags(driftLoadInterpolate, opts as unknown as Record<string, unknown>, overrides);
      // Recorded in the output's metadata as before the module took the pixel size.
      const { pixel_size: _pixelSize, ...recorded } = params;
      return { params, recorded };
    };

    /** Load the --drift files and correct `data` by them: Drift_Load_Interpolate, then Image_Post_Shift or Locs_Post_Shift. */
    const runApply = async (data: LocTable | ImageStack, load: Record<string, unknown>) => {
      const isImage = !('columns' in data);
      const { plan, dataSlot } = buildApplyPlan({
        image: isImage,
        load,
        shift: isImage ? { padding_multipler: opts.padding ?? imagePostShift.params.padding_multipler.default, float_output: opts.float === true } : undefined,
      });
      if (opts.saveRecipe) {
        // One input (checked below): its pixel size is in the recipe. Written with the other outputs: all or nothing.
        await writeRecipeFile(opts.saveRecipe, plan, {
          command: 'ccdrift apply',
          dataSlot,
          results: `the corrected ${isImage ? 'stack' : 'table'} is '${APPLY_SLOTS.corrected}'`,
          inputs: [...files, ...opts.drift],
          quiet: opts.quiet,
        });
      }
      // The input stays in the namespace: a corrected stack reads its frames when it is written.
      const run = await runCommandPlan(plan, { [dataSlot]: data }, ctx, { wantedSlots: new Set([dataSlot, ...Object.values(APPLY_SLOTS)]) });
      return { interp: slotValue(run, APPLY_SLOTS.interpolator, 'interpolator'), run };
    };

    const correctOne = async (input: string, output: string, plot: string | undefined) => {
      const inputs = [input, ...opts.drift];
      if (isImagePath(input)) {
        const stack = await readStackForCli(input, opts.voxelSize);
        const { params, recorded } = await loadParams(opts.pixelSize ?? stack.voxelSizeNm[0]);
        // Image_Post_Shift warns (through ctx.progress) when frame times reach beyond the samples.
        const { interp, run } = await runApply(stack, params);
        const corrected = slotValue(run, APPLY_SLOTS.corrected, 'image');
        await writePlot(plot, interp);
        Object.assign(corrected.metadata, provenanceOf('apply', recorded, input).metadata);
        try {
          const written = await writeImageStack(output, withFrameProgress(corrected, ctx.progress), { inputs });
          sayWritten(opts, `wrote ${written.join(', ')}`);
          return { rows: stack.frames, span: driftSpan(interp.evaluate(frameRange(0, stack.frames - 1)), stack.depth > 1), written };
        } finally {
          disposeSlotValue(corrected);
        }
      }
      const table: LocTable = await readTable(input, { pixelSizeNm: opts.pixelSize, table: opts.table, progress: ctx.progress, overridePixelSize: opts.force });
      checkPixelSizeAgreement(input, table.metadata, opts.pixelSize, opts.force);
      const { params, recorded } = await loadParams(opts.pixelSize ?? tablePixelSizeNm(table.metadata));
      const { interp, run } = await runApply(table, params);
      await writePlot(plot, interp);
      const [a, b] = interp.range;
      const t = table.columns.get('t');
      let span: string | undefined;
      if (t) {
        let lo = Infinity;
        let hi = -Infinity;
        for (const v of t) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
        if (lo < a || hi > b) {
          ctx.progress?.warn?.(`frames ${lo}–${hi} reach beyond the drift samples (${a}–${b}); extrapolating (${String(params.extrapolation)})`);
        }
        if (table.length) span = driftSpan(interp.evaluate(frameRange(Math.floor(lo), Math.ceil(hi))), table.columns.has('z'));
      }
      const corrected = slotValue(run, APPLY_SLOTS.corrected, 'table');
      const provenance = provenanceOf('apply', recorded, input);
      Object.assign(corrected.metadata, provenance.metadata);
      const written = await writeTable(output, corrected, { inputs, pixelSizeNm: opts.pixelSize, provenance: provenance.record, progress: ctx.progress });
      sayWritten(opts, `wrote ${written.join(', ')}`);
      return { rows: table.length, span, written };
    };
    const writePlot = async (plot: string | undefined, interp: DriftInterpolator) => {
      if (!plot) return;
      await writeDriftPlot(plot, interpolatorPlot(interp, opts.drift, 'Loaded drift'));
      sayWritten(opts, `wrote ${plot}`);
    };

    if (!batch) {
      if (problems.length) throw new InputError(problems[0].message);
      const plan = plans[0];
      const recipe = inOutDir(recipeFile(opts.saveRecipe), opts.outDir);
      await planOutputs([plan.input, ...opts.drift], [...plan.outputs, ...recipe], [], (m) => say(opts, m));
      refuseExisting(plan.defaults, opts.force);
      await makeOutputFolders([...plan.outputs, ...recipe]);
      await correctOne(plan.input, plan.output, plan.plot);
      return;
    }
    if (opts.saveRecipe) throw new UsageError(`--save-recipe is for one input with apply (the recipe records that input's pixel size); got ${files.length}`);
    const planProblems = checkBatchPlans(plans, [...files, ...opts.drift], opts.force);
    await removeStaleOutputs(plans, (m) => say(opts, m));
    await runBatch(
      plans,
      planProblems,
      problems,
      (plan) => {
        const p = plan as (typeof plans)[number];
        return correctOne(p.input, p.output, p.plot);
      },
      (line) => say(opts, line),
    );
  });
}

/** Frames first…last as sample times. */
function frameRange(first: number, last: number): Float64Array {
  return Float64Array.from({ length: Math.max(1, last - first + 1) }, (_, i) => first + i);
}
