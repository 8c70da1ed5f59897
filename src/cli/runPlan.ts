/**
 * The direct commands (`locs`, `images`, `apply`) build a plan of recipe modules (buildPlan)
 * and run it through the runner of `ccdrift run` (runRecipe): one way modules are put together.
 * `--save-recipe` writes that plan as a recipe `ccdrift run` accepts. The plans and the runner
 * live in src/recipes/plans.ts, shared with the browser app.
 */
import { promises as fs } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { extensionOf } from '../io/index.js';
import { writeAtomically } from '../io/atomic.js';
import type { RecipePlan } from '../recipes/parseRecipe.js';
import { recipeFileText } from '../recipes/plans.js';
import type { PlannedFile } from './outputPlan.js';
import { sayWritten } from './output.js';

/** Add `--save-recipe <file.yaml>`. */
export function addSaveRecipeOption(cmd: Command, command: string): Command {
  return cmd.option(
    '--save-recipe <file.yaml>',
    `also write the modules this command runs, with every parameter, as a recipe: \`ccdrift run <file.yaml> <input>\` repeats the measurement (same runner as ${command})`,
  );
}

/** The planned --save-recipe file (checked with the other outputs before any data is read). */
export function recipeFile(path: string | undefined): PlannedFile[] {
  if (!path) return [];
  const check = () => {
    const ext = extensionOf(path);
    if (ext !== '.yaml' && ext !== '.yml') throw new UsageError(`--save-recipe ${path}: a recipe is a YAML file (.yaml); got '${ext || '(none)'}'`);
  };
  return [{ path, what: '--save-recipe', check }];
}

/**
 * Write `plan` as recipe YAML, headed by how to run it. `dataSlot` is where `ccdrift run` puts
 * the input (`Localizations` or `input`); `results` names the slots holding the results.
 */
export async function writeRecipeFile(
  path: string,
  plan: RecipePlan,
  { command, dataSlot, results, inputs, quiet }: { command: string; dataSlot: string; results: string; inputs: string[]; quiet?: boolean },
): Promise<void> {
  const text = recipeFileText(plan, { ranBy: `\`${command}\``, path, dataSlot, results });
  await writeAtomically([path], ([temp]) => fs.writeFile(temp, text), inputs);
  sayWritten({ quiet }, `wrote ${path}`);
}
