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
import { didYouMean, RecipeError, type RecipeProblem } from './recipeErrors.js';
import { lookupModule, MODULES } from './registry.js';

export interface RecipeStep {
  /** 1-based position in the recipe list. */
  item: number;
  /** Module name as written in the recipe. */
  written: string;
  decl: ModuleDecl;
  /** Validated parameters with defaults filled in (slot parameters excluded). */
  params: Record<string, unknown>;
  /** Input parameter → slot name. */
  inputs: Record<string, string>;
  /** Output parameter → slot name. */
  outputs: Record<string, string>;
}

export interface RecipePlan {
  /** Steps in execution (dependency) order. */
  steps: RecipeStep[];
  /** Steps in recipe (file) order. */
  items: RecipeStep[];
  /** Slots present before any module runs (the loaded data). */
  initialSlots: string[];
  /** Slot → the step producing it. */
  producers: Map<string, RecipeStep>;
  /** Slot → the steps reading it. */
  consumers: Map<string, RecipeStep[]>;
}

export interface ParseRecipeOptions {
  modules?: readonly ModuleDecl[];
  /** Name used in messages, e.g. the recipe file name. */
  source?: string;
}

/** The Zod issue of a parameter value as text: `filters.A: expected number, received string`. */
function issueText(key: string, value: unknown, issue: { path: PropertyKey[]; message: string } | undefined): string {
  const path = [key, ...(issue?.path ?? []).map(String)].join('.');
  return `parameter ${path}: ${issue?.message ?? 'invalid value'} (got ${JSON.stringify(value)})`;
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

  const items: RecipeStep[] = [];
  /** Slots that items with unknown modules might produce: not reported as missing. */
  const maybeProduced = new Set<string>();
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
    const given = (rawParams ?? {});
    const found = lookupModule(written, modules);
    if (!found.decl) {
      problems.push({ kind: found.kind, item, module: written, message: found.message });
      for (const v of Object.values(given)) if (typeof v === 'string' && v !== '') maybeProduced.add(v);
      return;
    }
    const decl = found.decl;
    const step: RecipeStep = { item, written, decl, params: {}, inputs: {}, outputs: {} };
    let ok = true;
    for (const [key, value] of Object.entries(given)) {
      const slotKind = key in decl.inputs ? 'inputs' : key in decl.outputs ? 'outputs' : null;
      if (slotKind) {
        if (typeof value !== 'string' || value === '') {
          problems.push({ kind: 'invalid-value', item, module: written, message: `${key} names a slot: expected a non-empty string, got ${JSON.stringify(value)}` });
          ok = false;
        } else step[slotKind][key] = value;
      } else if (key in decl.params) {
        const r = decl.params[key].schema.safeParse(value);
        if (r.success) step.params[key] = r.data;
        else {
          problems.push({ kind: 'invalid-value', item, module: written, message: issueText(key, value, r.error.issues[0]) });
          ok = false;
        }
      } else {
        const names = [...Object.keys(decl.inputs), ...Object.keys(decl.outputs), ...Object.keys(decl.params)];
        problems.push({
          kind: 'unknown-parameter',
          item,
          module: written,
          message: `unknown parameter '${key}'${didYouMean(key, names) || `; ${decl.name} takes: ${names.join(', ')}`}`,
        });
        ok = false;
      }
    }
    for (const [k, s] of Object.entries(decl.inputs)) step.inputs[k] ??= s.default;
    for (const [k, s] of Object.entries(decl.outputs)) step.outputs[k] ??= s.default;
    for (const [k, p] of Object.entries(decl.params)) if (!(k in step.params)) step.params[k] = p.default;
    items.push(step);
    if (!ok) for (const slot of Object.values(step.outputs)) maybeProduced.add(slot);
  });

  // Slots: who produces and who reads each.
  const producers = new Map<string, RecipeStep>();
  const consumers = new Map<string, RecipeStep[]>();
  const initial = new Set(initialSlots);
  for (const step of items) {
    for (const [param, slot] of Object.entries(step.outputs)) {
      const other = producers.get(slot);
      if (initial.has(slot)) {
        problems.push({
          kind: 'duplicate-output',
          item: step.item,
          module: step.written,
          message: `${param}: '${slot}' holds the loaded data; give this output another name`,
        });
      } else if (other) {
        const where = other === step ? 'by another output of this module' : `by item ${other.item} (${other.written})`;
        problems.push({ kind: 'duplicate-output', item: step.item, module: step.written, message: `${param}: '${slot}' is already produced ${where}; slot names must be unique` });
      } else producers.set(slot, step);
    }
    for (const slot of Object.values(step.inputs)) {
      const list = consumers.get(slot) ?? [];
      if (!list.includes(step)) list.push(step);
      consumers.set(slot, list);
    }
  }
  const available = [...initialSlots, ...producers.keys()];
  for (const step of items) {
    for (const [param, slot] of Object.entries(step.inputs)) {
      if (initial.has(slot) || producers.has(slot) || maybeProduced.has(slot)) continue;
      const hint = didYouMean(slot, available);
      problems.push({
        kind: 'missing-input',
        item: step.item,
        module: step.written,
        message: `${param}: '${slot}' is not produced by any module${hint}; available: ${available.join(', ') || '(none)'}`,
      });
    }
  }

  const steps = dependencyOrder(items, producers, problems);
  if (problems.length > 0) {
    problems.sort((a, b) => (a.item ?? 0) - (b.item ?? 0));
    throw new RecipeError(problems, source);
  }
  return { steps, items, initialSlots: [...initialSlots], producers, consumers };
}

/**
 * Topological order (Kahn), ties broken by file order so independent modules keep the
 * order they were written in. Steps left over sit on or behind a cycle: one cycle is
 * reported, named by its items and slots.
 */
function dependencyOrder(items: RecipeStep[], producers: Map<string, RecipeStep>, problems: RecipeProblem[]): RecipeStep[] {
  const deps = new Map<RecipeStep, { from: RecipeStep; slot: string }[]>();
  for (const step of items) {
    const list: { from: RecipeStep; slot: string }[] = [];
    for (const slot of Object.values(step.inputs)) {
      const p = producers.get(slot);
      if (p) list.push({ from: p, slot });
    }
    deps.set(step, list);
  }
  const done = new Set<RecipeStep>();
  const order: RecipeStep[] = [];
  for (;;) {
    const next = items.find((s) => !done.has(s) && deps.get(s)!.every((d) => done.has(d.from)));
    if (!next) break;
    done.add(next);
    order.push(next);
  }
  if (order.length === items.length) return order;

  // Walk back along unmet dependencies from a leftover step until a step repeats.
  const path: RecipeStep[] = [];
  const via: string[] = [];
  let cur = items.find((s) => !done.has(s))!;
  while (!path.includes(cur)) {
    path.push(cur);
    const d = deps.get(cur)!.find((x) => !done.has(x.from))!;
    via.push(d.slot);
    cur = d.from;
  }
  const start = path.indexOf(cur);
  const cycle = path.slice(start);
  const slots = via.slice(start);
  const text = cycle
    .map((s, k) => `item ${s.item} (${s.written}) needs '${slots[k]}' from item ${(cycle[k + 1] ?? cycle[0]).item}`)
    .join(', ');
  problems.push({ kind: 'cycle', item: cycle[0].item, module: cycle[0].written, message: `dependency cycle: ${text}` });
  return order;
}

/**
 * The plan as recipe YAML in file order: full module names and every parameter, defaults
 * included, so the text alone reproduces the run (recorded as provenance, like PYME's
 * `Pipeline.Recipe`).
 */
export function formatRecipe(plan: RecipePlan): string {
  const list = plan.items.map((s) => {
    const all: Record<string, unknown> = { ...s.inputs, ...s.params, ...s.outputs };
    const sorted = Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]]));
    return { [s.decl.name]: sorted };
  });
  return stringify(list);
}
