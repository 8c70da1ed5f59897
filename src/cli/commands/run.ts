import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InputError, UsageError } from '../../core/errors.js';
import { findImageFormat, findTableFormat, isImagePath, readImageStack, readTable } from '../../io/index.js';
import { formatRecipe, parseRecipe } from '../../recipes/parseRecipe.js';
import { disposeSlotValue, runRecipe } from '../../recipes/runRecipe.js';
import { createSaveSink, planSaves } from '../../recipes/saveOutputs.js';
import { addCommonOptions, makeRunContext, type CommonOptions } from '../context.js';
import { parseNumberFlag } from '../flags.js';
import { say } from '../output.js';
import { optionalFile, planOutputs, type PlannedFile } from '../outputPlan.js';
import { driftNpzPath } from '../../io/npz.js';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';

interface RunOptions extends CommonOptions {
  output?: string;
  save: string[];
  skip: string[];
  pixelSize?: number;
  table?: string;
}

/** Slot names of the loaded data (as PYME names them). */
export const TABLE_SLOT = 'Localizations';
export const IMAGE_SLOT = 'input';

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
    .description('run a PYME-style YAML recipe (e.g. the original plugin\'s correct_drift_locs.yaml) on a localization table or image stack')
    .argument('<recipe>', 'recipe file (.yaml): a list of `- Module: {parameters}` items; see `ccdrift modules`')
    .argument('<input>', `data file: a table is the slot '${TABLE_SLOT}', an image stack the slot '${IMAGE_SLOT}'`)
    .option('-o, --output <dir>', 'directory for every output no module reads (named after its slot)')
    .option('--save <slot=path>', 'write slot SLOT to PATH (format from the extension); repeatable', (v: string, prev: string[]) => [...prev, v], [])
    .option('--skip <slot>', 'do not save SLOT by default; repeatable', (v: string, prev: string[]) => [...prev, v], [])
    .option('--pixel-size <nm>', 'camera pixel size in nm, for Picasso files', (v) => parseNumberFlag('pixel-size', v))
    .option('--table <name>', 'table inside an HDF5 file with several');
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
    await checkRecipeOutputs(plan.steps, savePlan.explicit, { input, recipePath, cwd, cacheFft: opts.cacheFft }, (m) => say(opts, m));
    const caches = [...new Set(plan.steps.map((s) => s.params.cache_fft).filter((c): c is string => typeof c === 'string' && c !== ''))];
    if (caches.length > 1) say(opts, `note: several cache_fft files in the recipe; using ${caches[0]}`);
    const ctx = makeRunContext({ ...opts, cacheFft: opts.cacheFft || caches[0] }, { cwd, recipeText, inputName: basename(input) });

    const data = isImage ? await readImageStack(input) : await readTable(input, { pixelSizeNm: opts.pixelSize, table: opts.table });
    if ('readFrame' in data) say(opts, `${input}: image stack, ${data.frames} time points of ${data.width}×${data.height}${data.depth > 1 ? `×${data.depth}` : ''} pixels`);
    else say(opts, `${input}: ${data.length} localizations`);
    const sink = createSaveSink(savePlan, saveOptions);
    const { slots } = await runRecipe(plan, { [isImage ? IMAGE_SLOT : TABLE_SLOT]: data }, ctx, {
      wantedSlots: savePlan.wanted,
      sink,
      onStepStart: (step, i, n) => say(opts, `[${i + 1}/${n}] ${step.decl.name} (item ${step.item})`),
      onStepDone: (step, report, seconds) => {
        if (report) say(opts, `  ${report}`);
        if (seconds >= 1) say(opts, `  ${seconds.toFixed(1)} s`);
      },
    });
    for (const value of slots.values()) disposeSlotValue(value);
    for (const r of sink.records) {
      if (r.files) say(opts, `wrote ${r.slot}: ${r.files.join(', ')}`);
      else say(opts, `not saved: ${r.slot}: ${r.reason}`);
    }
  });
}

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
  { input, recipePath, cwd, cacheFft }: { input: string; recipePath: string; cwd: string; cacheFft?: string },
  report: (message: string) => void,
): Promise<void> {
  const outputs: PlannedFile[] = [...explicit].map(([slot, path]) => ({ path, what: `--save ${slot}` }));
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
      } else outputs.push({ path, what });
    }
  }
  await planOutputs([input, recipePath], outputs, scratch, report);
}
