/**
 * A validated execution plan from a list of modules with their slots and parameters: the one
 * place that checks a plan, whether it comes from a recipe file (parseRecipe.ts reads the YAML
 * and builds through here) or from a program (the `locs`, `images` and `apply` commands build
 * theirs with buildPlan and run it with runRecipe, the runner of `ccdrift run`). Unknown
 * modules or parameters, wrong values, missing inputs, slots produced twice and cycles are
 * collected and thrown together in one RecipeError before anything runs.
 */
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
  /** Input parameter → slot name (an optional input left out is absent). */
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

export interface PlanOptions {
  modules?: readonly ModuleDecl[];
  /** Name used in messages, e.g. the recipe file name. */
  source?: string;
}

/** One module of a plan as a program writes it; slots and parameters left out take the declared defaults. */
export interface PlanItem {
  /** The module: its declaration, or its name as a recipe writes it (`chung_cc.Locs_RCC`, `Locs_RCC`). */
  module: ModuleDecl | string;
  /** Input parameter → slot name. */
  inputs?: Record<string, string>;
  /** Output parameter → slot name. */
  outputs?: Record<string, string>;
  params?: Record<string, unknown>;
}

/**
 * A plan item as the checks take it: slot and value parameters in one map, as a recipe writes
 * them (PYME: a slot is a parameter naming a namespace entry). `as` says where a program put a
 * key (PlanItem.inputs, .outputs or .params), so one given in the wrong place is reported.
 */
export interface PlanEntry {
  item: number;
  written: string;
  module: ModuleDecl | string;
  given: Record<string, unknown>;
  as?: Record<string, 'inputs' | 'outputs' | 'params'>;
}

/** Validate `items` (in this order: their file order) into a plan; see the file comment. */
export function buildPlan(items: readonly PlanItem[], initialSlots: readonly string[], options: PlanOptions = {}): RecipePlan {
  const entries = items.map((it, i): PlanEntry => {
    const as: Record<string, 'inputs' | 'outputs' | 'params'> = {};
    for (const where of ['params', 'inputs', 'outputs'] as const) for (const key of Object.keys(it[where] ?? {})) as[key] = where;
    const module = it.module;
    const written = typeof module === 'string' ? module : module.name;
    return { item: i + 1, written, module, given: { ...it.params, ...it.inputs, ...it.outputs }, as };
  });
  const problems: RecipeProblem[] = [];
  const plan = planEntries(entries, initialSlots, problems, options.modules ?? MODULES);
  throwProblems(problems, options.source ?? 'plan');
  return plan;
}

/** Throw the collected problems, by item, as one RecipeError (nothing when there are none). */
export function throwProblems(problems: RecipeProblem[], source: string): void {
  if (problems.length === 0) return;
  problems.sort((a, b) => (a.item ?? 0) - (b.item ?? 0));
  throw new RecipeError(problems, source);
}

/** The Zod issue of a parameter value as text: `filters.A: expected number, received string`. */
function issueText(key: string, value: unknown, issue: { path: PropertyKey[]; message: string } | undefined): string {
  const path = [key, ...(issue?.path ?? []).map(String)].join('.');
  return `parameter ${path}: ${issue?.message ?? 'invalid value'} (got ${JSON.stringify(value)})`;
}

/**
 * The checks every plan goes through, problems pushed onto `problems` (the caller throws them,
 * with any of its own, together). `maybeProduced`: slots that items the caller could not read
 * might produce (not reported as missing).
 */
export function planEntries(
  entries: readonly PlanEntry[],
  initialSlots: readonly string[],
  problems: RecipeProblem[],
  modules: readonly ModuleDecl[],
  maybeProduced = new Set<string>(),
): RecipePlan {
  const items: RecipeStep[] = [];
  for (const { item, written, module, given, as } of entries) {
    let decl: ModuleDecl;
    if (typeof module === 'string') {
      const found = lookupModule(module, modules);
      if (!found.decl) {
        problems.push({ kind: found.kind, item, module: written, message: found.message });
        for (const v of Object.values(given)) if (typeof v === 'string' && v !== '') maybeProduced.add(v);
        continue;
      }
      decl = found.decl;
    } else decl = module;
    const step: RecipeStep = { item, written, decl, params: {}, inputs: {}, outputs: {} };
    let ok = true;
    for (const [key, value] of Object.entries(given)) {
      const slotKind = key in decl.inputs ? 'inputs' : key in decl.outputs ? 'outputs' : null;
      const placed = as?.[key];
      if (placed && placed !== (slotKind ?? 'params') && (slotKind || key in decl.params)) {
        problems.push({
          kind: 'unknown-parameter',
          item,
          module: written,
          message: `'${key}' is given as one of the ${placed} but is ${slotKind ? `one of the ${slotKind}` : 'a parameter'} of ${decl.name}`,
        });
        ok = false;
      } else if (slotKind) {
        if (slotKind === 'inputs' && decl.inputs[key].optional && value === '') continue;
        if (typeof value !== 'string' || value === '') {
          problems.push({
            kind: 'invalid-value',
            item,
            module: written,
            message: `${key} names a slot: expected a non-empty string, got ${JSON.stringify(value)}`,
          });
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
    for (const [k, s] of Object.entries(decl.inputs)) if (!s.optional) step.inputs[k] ??= s.default;
    for (const [k, s] of Object.entries(decl.outputs)) step.outputs[k] ??= s.default;
    for (const [k, p] of Object.entries(decl.params)) if (!(k in step.params)) step.params[k] = p.default;
    items.push(step);
    if (!ok) for (const slot of Object.values(step.outputs)) maybeProduced.add(slot);
  }

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
        problems.push({
          kind: 'duplicate-output',
          item: step.item,
          module: step.written,
          message: `${param}: '${slot}' is already produced ${where}; slot names must be unique`,
        });
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
  const text = cycle.map((s, k) => `item ${s.item} (${s.written}) needs '${slots[k]}' from item ${(cycle[k + 1] ?? cycle[0]).item}`).join(', ');
  problems.push({ kind: 'cycle', item: cycle[0].item, module: cycle[0].written, message: `dependency cycle: ${text}` });
  return order;
}
