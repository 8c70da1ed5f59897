/**
 * Recipe text → a validated execution plan (SPEC §3). A recipe is a YAML list of one-key
 * maps `ModuleName: {parameters}`; parameters that name input/output slots connect the
 * modules through a shared namespace. The plan runs modules in data-dependency order, not
 * file order. Every problem of the recipe (syntax, unknown modules or parameters, wrong
 * types, missing inputs, slots produced twice, cycles) is collected and thrown together in
 * one RecipeError before anything runs.
 */
import { parse, stringify, YAMLParseError } from 'yaml';
import type { ModuleDecl } from './declare.js';
import { planEntries, throwProblems, type PlanEntry, type RecipePlan } from './buildPlan.js';
import { RecipeError, type RecipeProblem } from './recipeErrors.js';
import { MODULES } from './registry.js';

export type { PlanItem, RecipePlan, RecipeStep } from './buildPlan.js';
export { buildPlan } from './buildPlan.js';

export interface ParseRecipeOptions {
  modules?: readonly ModuleDecl[];
  /** Name used in messages, e.g. the recipe file name. */
  source?: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parse and validate a recipe. `initialSlots` are the namespace entries present before any
 * module runs (`Localizations` for a table, `input` for an image stack).
 */
export function parseRecipe(text: string, initialSlots: string[], options: ParseRecipeOptions = {}): RecipePlan {
  const modules = options.modules ?? MODULES;
  const source = options.source ?? 'recipe';
  const problems: RecipeProblem[] = [];
  let doc: unknown;
  try {
    doc = parse(text, { logLevel: 'error' }); // YAML warnings (an unknown tag) would print as raw Node warnings; values are validated below
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
    const first = (err as Error).message.split('\n')[0];
    throw new RecipeError([{ kind: 'syntax', message: `not valid YAML${where}: ${first}` }], source);
  }
  if (!Array.isArray(doc) || doc.length === 0) {
    const got = doc === null || doc === undefined ? 'an empty document' : Array.isArray(doc) ? 'an empty list' : `a ${typeof doc}`;
    throw new RecipeError([{ kind: 'syntax', message: `a recipe is a YAML list of '- ModuleName: {parameters}' items; got ${got}` }], source);
  }

  // Each item's syntax here; modules, parameters and slots in the checks every plan goes through (buildPlan.ts).
  const entries: PlanEntry[] = [];
  doc.forEach((entry, i) => {
    const item = i + 1;
    if (!isPlainObject(entry) || Object.keys(entry).length !== 1) {
      problems.push({ kind: 'syntax', item, message: `each item is a one-key map 'ModuleName: {parameters}'; got ${JSON.stringify(entry)}` });
      return;
    }
    const [written, rawParams] = Object.entries(entry)[0];
    if (rawParams !== null && !isPlainObject(rawParams)) {
      problems.push({ kind: 'syntax', item, module: written, message: `parameters must be a map of name: value; got ${JSON.stringify(rawParams)}` });
      return;
    }
    entries.push({ item, written, module: written, given: rawParams ?? {} });
  });
  const plan = planEntries(entries, initialSlots, problems, modules);
  throwProblems(problems, source);
  return plan;
}

/**
 * The plan as recipe YAML in file order: full module names and every parameter, defaults
 * included, so the text alone reproduces the run (recorded as provenance, like PYME's
 * `Pipeline.Recipe`).
 */
export function formatRecipe(plan: RecipePlan): string {
  const list = plan.items.map((s) => {
    const all: Record<string, unknown> = { ...s.inputs, ...s.params, ...s.outputs };
    const sorted = Object.fromEntries(
      Object.keys(all)
        .sort()
        .map((k) => [k, all[k]]),
    );
    return { [s.decl.name]: sorted };
  });
  return stringify(list);
}
