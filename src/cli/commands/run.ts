import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { InputError, UsageError } from '../../core/errors.js';
import { findImageFormat, findTableFormat, isImagePath, readImageStack, readTable } from '../../io/index.js';
import { formatRecipe, parseRecipe } from '../../recipes/parseRecipe.js';
import { IMAGE_SLOT, TABLE_SLOT } from '../../recipes/plans.js';
import { disposeSlotValue, outputValue, runRecipe } from '../../recipes/runRecipe.js';
import { createSaveSink, plannedDefaultFiles, planSaves } from '../../recipes/saveOutputs.js';
import { addCommonOptions, makeRunContext, type CommonOptions } from '../context.js';
import { parsePositiveFlag } from '../flags.js';
import { parseTriple } from './images.js';
import { say, sayWritten } from '../output.js';
import { afterCommit } from '../../io/atomic.js';
import { accepts, checkFolderCanBeMade, checkOutputPlan, optionalFile, planOutputs, type PlannedFile } from '../outputPlan.js';
import { refuseExisting } from '../batch.js';
import { driftNpzPath } from '../../io/npz.js';
import { collectWarnings, imagesReportData, locsReportData, writeReport } from '../report.js';
import { locsRcc } from '../../recipes/modules/locsRcc.js';
import { imageRcc } from '../../recipes/modules/imageRcc.js';
import { locsPostShift } from '../../recipes/modules/locsPostShift.js';
import { imagePostShift } from '../../recipes/modules/imagePostShift.js';
import { checkFourierShiftMemory } from '../../core/shift/fourierShift.js';
import { RecipeStepError } from '../../recipes/recipeErrors.js';
import { detailsOf } from '../../recipes/declare.js';
import { interpolatorPlot } from '../../recipes/modules/driftInterpolate.js';
import { createDriftInterpolator } from '../../core/drift/driftInterpolator.js';
import { minMax } from '../../core/histogram/binGrid.js';
import { applyDriftToTable } from '../../core/drift/applyDriftToTable.js';
import type { ImageStack, LocTable } from '../../core/types.js';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';

interface RunOptions extends CommonOptions {
  output?: string;
  save: string[];
  skip: string[];
  pixelSize?: number;
  voxelSize?: [number, number, number];
  table?: string;
  report?: string;
  force?: boolean;
}

/** Slot names of the loaded data (as PYME names them): src/recipes/plans.ts, shared with the browser app. */
export { IMAGE_SLOT, TABLE_SLOT };

function parseSave(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw new UsageError(`--save expects SLOT=PATH, e.g. --save corrected_localizations=cell_corr.hdf; got '${text}'`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/** Is `path` read as an image stack (true) or a localization table (false)? */
function inputIsImage(path: string): boolean {
  if (isImagePath(path)) return true;
  try {
    findTableFormat(path, 'read');
    return false;
  } catch (tableError) {
    try {
      findImageFormat(path, 'read');
      return true;
    } catch {
      throw tableError;
    }
  }
}

export function registerRunCommand(program: Command): void {
  const cmd = program
    .command('run')
    .description("run a PYME-style YAML recipe (e.g. the original plugin's correct_drift_locs.yaml) on a localization table or image stack")
    .argument('<recipe>', 'recipe file (.yaml): a list of `- Module: {parameters}` items; see `ccdrift modules`')
    .argument('<input>', `data file: a table is the slot '${TABLE_SLOT}', an image stack the slot '${IMAGE_SLOT}'`)
    .option('-o, --output <dir>', 'directory for every output no module reads (named after its slot)')
    .option('--save <slot=path>', 'write slot SLOT to PATH (format from the extension); repeatable', (v: string, prev: string[]) => [...prev, v], [])
    .option('--skip <slot>', 'do not save SLOT by default; repeatable', (v: string, prev: string[]) => [...prev, v], [])
    .option('--pixel-size <nm>', 'camera pixel size in nm, for Picasso files', (v) => parsePositiveFlag('pixel-size', v))
    .option('--voxel-size <x,y,z>', 'image stacks: voxel size in nm when the file does not say (must agree when it does)', (v) => parseTriple('voxel-size', v))
    .option('--table <name>', 'table inside an HDF5 file with several')
    .option('--force', 'replace files that exist already in -o DIR, or named by the recipe (save_path, debug_cor_file)')
    .option(
      '--report <file.html>',
      "a self-contained HTML report of the recipe's Locs_RCC or Image_RCC step: drift with its uncertainty, pairs, warnings, before/after, FRC",
    );
  addCommonOptions(cmd);
  cmd.action(async (recipePath: string, input: string, opts: RunOptions) => {
    let text: string;
    try {
      text = await readFile(recipePath, 'utf8');
    } catch (err) {
      throw new InputError(`${recipePath}: cannot read the recipe (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
    }
    // Everything that can be checked without the data is checked before it is read.
    const isImage = inputIsImage(input);
    const plan = parseRecipe(text, [isImage ? IMAGE_SLOT : TABLE_SLOT], { source: recipePath });
    const saves = Object.fromEntries(opts.save.map(parseSave));
    const cwd = process.cwd();
    const recipeText = formatRecipe(plan);
    const saveOptions = { outDir: opts.output, saves, skip: opts.skip, inputPath: input, cwd, recipeText, pixelSizeNm: opts.pixelSize };
    const savePlan = planSaves(plan, saveOptions);
    const rccStep = plan.steps.find((st) => st.decl.name === locsRcc.name || st.decl.name === imageRcc.name);
    if (opts.report && !rccStep) {
      throw new UsageError(`--report: the recipe ${recipePath} has no ${locsRcc.name} or ${imageRcc.name} step, so there is no measured drift to report on`);
    }
    const reportFile = optionalFile(opts.report, '--report', opts.report ? accepts.report(opts.report) : undefined);
    // The files -o DIR gets, named now from what each slot will hold (saveOutputs.ts).
    if (opts.output) checkFolderCanBeMade('-o', opts.output);
    const defaultFiles = plannedDefaultFiles(plan, savePlan, saveOptions, isImage ? 'image' : 'table');
    const defaults: PlannedFile[] = [...defaultFiles].map(([slot, path]) => ({ path, what: `-o ${opts.output} (slot ${slot})`, folderMadeByRun: true }));
    const inputs = [input, recipePath];
    await checkRecipeOutputs(
      plan.steps,
      savePlan.explicit,
      { input, recipePath, cwd, cacheFft: opts.cacheFft, extraOutputs: reportFile, defaults, force: opts.force },
      (m) => say(opts, m),
    );
    const caches = [...new Set(plan.steps.map((s) => s.params.cache_fft).filter((c): c is string => typeof c === 'string' && c !== ''))];
    if (caches.length > 1) say(opts, `note: several cache_fft files in the recipe; using ${caches[0]}`);
    const ctx = makeRunContext({ ...opts, cacheFft: opts.cacheFft || caches[0] }, { cwd, recipeText, inputName: basename(input) }, 'recipe');
    const collected = collectWarnings(ctx.progress, 'recipe');
    if (opts.report) ctx.progress = collected.progress;
    const stepOutputs = new Map<string, Record<string, unknown>>();

    if (opts.voxelSize && !isImage)
      throw new UsageError(`--voxel-size is for image stacks; ${input} is read as a localization table (its pixel size: --pixel-size)`);
    const data = isImage
      ? await readImageStack(input, { voxelSizeNm: opts.voxelSize })
      : await readTable(input, { pixelSizeNm: opts.pixelSize, table: opts.table });
    if ('readFrame' in data)
      say(opts, `${input}: image stack, ${data.frames} time points of ${data.width}×${data.height}${data.depth > 1 ? `×${data.depth}` : ''} pixels`);
    else say(opts, `${input}: ${data.length} localizations`);
    // What needs the data's size but not its content is checked before any step runs: the
    // padded frame of Image_Post_Shift, which comes after the long RCC.
    if ('readFrame' in data) {
      for (const step of plan.steps) {
        if (step.decl.name !== imagePostShift.name || step.inputs.input_image !== IMAGE_SLOT) continue;
        try {
          checkFourierShiftMemory(data, step.params.padding_multipler as number);
        } catch (err) {
          // Wrapped, not rewritten: the message shows the option as the recipe names it (errorMessage.ts).
          throw new RecipeStepError(`${recipePath}: ${step.decl.name} (item ${step.item})`, err);
        }
      }
    }
    const sink = createSaveSink(savePlan, saveOptions, {
      defaults: defaultFiles,
      check: (path, slot) => {
        const file = { path, what: `-o ${opts.output} (slot ${slot})` };
        checkOutputPlan(inputs, [file]);
        refuseExisting([file], opts.force, 'or choose another -o folder');
      },
    });
    const { slots } = await runRecipe(plan, { [isImage ? IMAGE_SLOT : TABLE_SLOT]: data }, ctx, {
      wantedSlots: savePlan.wanted,
      sink,
      onStepStart: (step, i, n) => say(opts, `[${i + 1}/${n}] ${step.decl.name} (item ${step.item})`),
      onStepDone: (step, report, seconds, outputs) => {
        if (outputs && !stepOutputs.has(step.decl.name)) stepOutputs.set(step.decl.name, outputs);
        if (report) say(opts, `  ${report}`);
        if (seconds >= 1) say(opts, `  ${seconds.toFixed(1)} s`);
      },
    });
    if (opts.report && rccStep) {
      await writeRunReport(opts.report, { recipePath, recipeText, input, data, rccStep, stepOutputs, warnings: collected.warnings });
      sayWritten(opts, `wrote ${opts.report}`);
    }
    for (const value of slots.values()) disposeSlotValue(value);
    // Said once the outputs are in place (all or nothing), in the order they were saved.
    for (const r of sink.records) {
      if (r.files) sayWritten(opts, `wrote ${r.slot}: ${r.files.join(', ')}`);
      else afterCommit(() => say(opts, `not saved: ${r.slot}: ${r.reason}`));
    }
  });
}

/** Recipe parameters that name files the run reads (besides the data and the recipe). */
const RECIPE_INPUT_PARAMS = ['load_paths', 'picks'];

/** Recipe parameters that name a file the run writes, and whether it is scratch (created and removed). */
const RECIPE_FILE_PARAMS: { param: string; scratch?: boolean; npz?: boolean }[] = [
  { param: 'save_path', npz: true },
  { param: 'debug_cor_file' },
  { param: 'cache_fft', scratch: true },
];

/**
 * Before the data is read (issue 12): a recipe is data someone may send you, so the files its
 * parameters name must be relative paths inside the folder the run works in; no output may be
 * the input or the recipe, or another output; folders must exist; the FFT cache must not.
 */
async function checkRecipeOutputs(
  steps: readonly { decl: { name: string }; item: number; params: Record<string, unknown> }[],
  explicit: ReadonlyMap<string, string>,
  {
    input,
    recipePath,
    cwd,
    cacheFft,
    extraOutputs = [],
    defaults = [],
    force,
  }: { input: string; recipePath: string; cwd: string; cacheFft?: string; extraOutputs?: PlannedFile[]; defaults?: PlannedFile[]; force?: boolean },
  report: (message: string) => void,
): Promise<void> {
  const outputs: PlannedFile[] = [...[...explicit].map(([slot, path]) => ({ path, what: `--save ${slot}` })), ...extraOutputs, ...defaults];
  // Files the user did not name on the command line (-o DIR's, the recipe's) never replace one without --force.
  const unasked: PlannedFile[] = [];
  const scratch: PlannedFile[] = optionalFile(cacheFft, '--cache-fft');
  for (const step of steps) {
    for (const { param, scratch: isScratch, npz } of RECIPE_FILE_PARAMS) {
      const value = step.params[param];
      if (typeof value !== 'string' || value === '') continue;
      const what = `${step.decl.name} ${param} (item ${step.item})`;
      const inside = relative(cwd, resolve(cwd, value));
      if (isAbsolute(value) || inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
        throw new UsageError(
          `${what} '${value}' would write outside ${cwd}: a recipe may only write inside the folder it runs in; give a relative path there (or save a slot anywhere with --save)`,
        );
      }
      const path = resolve(cwd, npz ? driftNpzPath(value) : value);
      if (isScratch) {
        if (!cacheFft && !scratch.some((f) => resolve(f.path) === path)) scratch.push({ path, what });
      } else {
        outputs.push({ path, what });
        unasked.push({ path, what });
      }
    }
  }
  // The files the recipe reads must exist now (not be found missing after the long work), and
  // no output may replace one, unless the recipe itself writes it first (Drift_Save, then load).
  const written = new Set([...outputs].map((f) => resolve(cwd, f.path)));
  const readFiles: string[] = [];
  for (const step of steps) {
    for (const param of RECIPE_INPUT_PARAMS) {
      const value = step.params[param];
      for (const p of Array.isArray(value) ? value : [value]) {
        if (typeof p !== 'string' || p === '') continue;
        const path = resolve(cwd, p);
        if (written.has(path)) continue;
        if (!existsSync(path)) throw new InputError(`${step.decl.name} ${param} (item ${step.item}): ${p} does not exist (looked for ${path})`);
        readFiles.push(path);
      }
    }
  }
  await planOutputs([input, recipePath, ...readFiles], outputs, scratch, report);
  refuseExisting(defaults, force, 'or choose another -o folder');
  refuseExisting(unasked, force, 'or give the recipe another file name');
}

/** A report of an image stack needs Image_RCC's details, of a table Locs_RCC's. */
function noDetails(): never {
  throw new UsageError('--report: the recipe measures the drift with a module for the other kind of data (Locs_RCC for tables, Image_RCC for image stacks)');
}

/**
 * The report of a recipe run: its first Locs_RCC or Image_RCC step, the interpolator of the
 * first Drift_Interpolate / Drift_Load_Interpolate step (else smoothing 'auto' of the samples) and
 * the corrected table of Locs_Post_Shift (else the input corrected by that interpolator).
 */
async function writeRunReport(
  path: string,
  o: {
    recipePath: string;
    recipeText: string;
    input: string;
    data: LocTable | ImageStack;
    rccStep: { decl: { name: string }; params: Record<string, unknown> };
    stepOutputs: Map<string, Record<string, unknown>>;
    warnings: string[];
  },
): Promise<void> {
  const rccOut = o.stepOutputs.get(o.rccStep.decl.name);
  const locsResult = o.rccStep.decl.name === locsRcc.name ? detailsOf(locsRcc, rccOut) : undefined;
  const imageResult = o.rccStep.decl.name === imageRcc.name ? detailsOf(imageRcc, rccOut) : undefined;
  const result = locsResult ?? imageResult;
  if (!result) throw new InputError(`--report: ${o.rccStep.decl.name} gave no details to report on`);
  const interpOut = [...o.stepOutputs.values()].map((out) => outputValue(out, 'output_drift_interpolator', 'interpolator')).find((v) => v !== undefined);
  const interp = interpOut ?? createDriftInterpolator([result.drift], { smoothing: 'auto' });
  const command = `ccdrift run ${o.recipePath} ${o.input}\n\n${o.recipeText}`;
  const label = o.rccStep.decl.name === locsRcc.name ? 'measured (Locs_RCC)' : 'measured (Image_RCC)';
  if ('readFrame' in o.data) {
    const plot = interpolatorPlot(interp, [label], `Drift of ${basename(o.input)}`, { subtitle: `recipe ${basename(o.recipePath)}` });
    const report = await imagesReportData({
      inputPath: o.input,
      command,
      stack: o.data,
      result: imageResult ?? noDetails(),
      interp,
      plot,
      params: o.rccStep.params,
      warnings: o.warnings,
      paddingMultiplier: imagePostShift.params.padding_multipler.default,
    });
    report.title = `ccdrift run: ${basename(o.input)}`;
    await writeReport(path, report, [o.input, o.recipePath]);
    return;
  }
  const table = o.data;
  const corrected = outputValue(o.stepOutputs.get(locsPostShift.name), 'output_name', 'table') ?? applyDriftToTable(table, interp);
  const [lo, hi] = minMax(table.columns.get('t')!, 't');
  const plot = interpolatorPlot(interp, [label], `Drift of ${basename(o.input)}`, {
    frames: [Math.floor(lo), Math.ceil(hi)],
    subtitle: `recipe ${basename(o.recipePath)}; ${(locsResult ?? noDetails()).choices.summary}`,
  });
  const report = await locsReportData({
    inputPath: o.input,
    command,
    table,
    corrected,
    result: locsResult ?? noDetails(),
    interp,
    plot,
    params: o.rccStep.params,
    warnings: o.warnings,
  });
  report.title = `ccdrift run: ${basename(o.input)}`;
  await writeReport(path, report, [o.input, o.recipePath]);
}
