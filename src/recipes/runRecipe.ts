/**
 * Run a validated recipe plan (see parseRecipe.ts): modules one after another in dependency
 * order, each on the slots its inputs name. Nothing here writes to the terminal; progress
 * goes through `ctx.progress`, and what happens to outputs (saving) is up to the caller's
 * sink, so the same runner serves the CLI, tests and the browser.
 */
import { InputError } from '../core/errors.js';
import { describeSlotValue, isSlotValue, REPORT_KEY, SLOT_KIND_NAMES, type RunContext, type SlotKind, type SlotValues } from './declare.js';
import { RecipeStepError } from './recipeErrors.js';
import type { RecipePlan, RecipeStep } from './buildPlan.js';

/** Where produced values go besides later modules. */
export interface RecipeSink {
  /** A slot in `wantedSlots` was produced (e.g. save it); `step` is undefined for the loaded data. */
  slot?(slot: string, value: unknown, step: RecipeStep | undefined): Promise<void>;
  /**
   * A module parameter that names a file for one of its outputs (`savesOutput`, e.g.
   * Locs_RCC's `debug_cor_file`) is set: write `value` to `path` (as written in the recipe).
   */
  moduleFile?(path: string, value: unknown, step: RecipeStep, output: string): Promise<void>;
}

export interface RecipeRunOptions {
  /** Slots wanted outside the recipe (saves): kept, handed to the sink, and asked of their modules. */
  wantedSlots?: ReadonlySet<string>;
  sink?: RecipeSink;
  /** Called before each module runs (index in execution order, 0-based). */
  onStepStart?(step: RecipeStep, index: number, total: number): void;
  /** Called after each module with its one-line report, if it gave one. */
  onStepDone?(step: RecipeStep, report: string | undefined, seconds: number, outputs?: Record<string, unknown>): void;
  /**
   * Drop a slot's value once every module reading it has run and nobody else wants it, so
   * large intermediates do not pile up. The result then holds only the wanted slots.
   * @default true
   */
  release?: boolean;
}

export interface RecipeRunResult {
  /** Slot values (all of them, or only the wanted ones when released). */
  slots: Map<string, unknown>;
  /** Per module, in execution order: its one-line report, if any. */
  reports: { step: RecipeStep; report?: string }[];
}

/**
 * The value of `slot` after a run, as the `kind` the caller expects: typed, no cast (an
 * InputError says what the slot holds otherwise). Only wanted slots outlive a run that releases.
 */
export function slotValue<K extends SlotKind>(result: Pick<RecipeRunResult, 'slots'>, slot: string, kind: K): SlotValues[K] {
  const value = result.slots.get(slot);
  if (!isSlotValue(kind, value)) {
    const why = result.slots.has(slot) ? '' : ' (only the wanted slots are kept after a run)';
    throw new InputError(`slot '${slot}' should hold ${SLOT_KIND_NAMES[kind]} after the run, but it holds ${describeSlotValue(value)}${why}`);
  }
  return value;
}

/** An output of one step (as onStepDone hands them over) as `kind`; undefined when the module gave none. */
export function outputValue<K extends SlotKind>(outputs: Readonly<Record<string, unknown>> | undefined, param: string, kind: K): SlotValues[K] | undefined {
  const value = outputs?.[param];
  if (value === undefined) return undefined;
  if (!isSlotValue(kind, value)) throw new InputError(`output ${param} should be ${SLOT_KIND_NAMES[kind]}, but it is ${describeSlotValue(value)}`);
  return value;
}

/** Output parameters of `step` whose values are used by a later module, a save or a file parameter. */
export function wantedOutputsOf(step: RecipeStep, plan: RecipePlan, wantedSlots: ReadonlySet<string>): Set<string> {
  const wanted = new Set<string>();
  for (const [param, slot] of Object.entries(step.outputs)) {
    if (wantedSlots.has(slot) || (plan.consumers.get(slot)?.length ?? 0) > 0) wanted.add(param);
  }
  for (const [name, p] of Object.entries(step.decl.params)) {
    if (p.savesOutput && typeof step.params[name] === 'string' && step.params[name] !== '') wanted.add(p.savesOutput);
  }
  return wanted;
}

export async function runRecipe(plan: RecipePlan, initial: Record<string, unknown>, ctx: RunContext, options: RecipeRunOptions = {}): Promise<RecipeRunResult> {
  const wantedSlots = options.wantedSlots ?? new Set<string>();
  const release = options.release ?? true;
  const slots = new Map<string, unknown>();
  for (const name of plan.initialSlots) {
    if (!(name in initial)) throw new InputError(`the recipe expects the loaded data in slot '${name}', but it was not given`);
    slots.set(name, initial[name]);
  }
  const remainingReaders = new Map<string, number>();
  for (const [slot, readers] of plan.consumers) remainingReaders.set(slot, readers.length);
  const reports: RecipeRunResult['reports'] = [];
  for (const name of plan.initialSlots) if (wantedSlots.has(name) && options.sink?.slot) await options.sink.slot(name, slots.get(name), undefined);

  for (const [index, step] of plan.steps.entries()) {
    const where = `item ${step.item} (${step.written})`;
    const inputs: Record<string, unknown> = {};
    for (const [param, slot] of Object.entries(step.inputs)) {
      if (!slots.has(slot)) throw new InputError(`${where}: input ${param}: slot '${slot}' is not available`);
      const value = slots.get(slot);
      if (value === undefined) {
        const producer = plan.producers.get(slot);
        throw new InputError(`${where}: input ${param}: slot '${slot}' is empty${producer ? ` (item ${producer.item} did not produce it)` : ''}`);
      }
      // The module's run is typed by its slots' kinds: hold it to them.
      const kind = step.decl.inputs[param].kind;
      if (!isSlotValue(kind, value)) {
        throw new InputError(`${where}: input ${param} (slot '${slot}') must be ${SLOT_KIND_NAMES[kind]}, but the slot holds ${describeSlotValue(value)}`);
      }
      inputs[param] = value;
    }
    options.onStepStart?.(step, index, plan.steps.length);
    const started = performance.now();
    let out: Record<string, unknown>;
    try {
      out = await step.decl.run({ ...ctx, wantedOutputs: wantedOutputsOf(step, plan, wantedSlots) }, inputs, step.params);
    } catch (err) {
      // Say which item failed; the module's error travels as the cause, unchanged.
      throw err instanceof RecipeStepError ? err : new RecipeStepError(where, err);
    }
    const report = typeof out[REPORT_KEY] === 'string' ? out[REPORT_KEY] : undefined;
    reports.push({ step, report });
    options.onStepDone?.(step, report, (performance.now() - started) / 1000, out);

    for (const [param, slot] of Object.entries(step.outputs)) slots.set(slot, out[param]);
    for (const [name, p] of Object.entries(step.decl.params)) {
      const path = step.params[name];
      if (p.savesOutput && typeof path === 'string' && path !== '' && options.sink?.moduleFile) {
        await options.sink.moduleFile(path, out[p.savesOutput], step, p.savesOutput);
      }
    }
    for (const slot of Object.values(step.outputs)) {
      if (wantedSlots.has(slot) && options.sink?.slot) await options.sink.slot(slot, slots.get(slot), step);
    }

    if (release) {
      const read = new Set(Object.values(step.inputs));
      for (const slot of read) {
        const left = (remainingReaders.get(slot) ?? 1) - 1;
        remainingReaders.set(slot, left);
        if (left <= 0 && !wantedSlots.has(slot)) releaseSlot(slots, slot);
      }
      for (const slot of Object.values(step.outputs)) {
        if (!plan.consumers.has(slot) && !wantedSlots.has(slot)) releaseSlot(slots, slot);
      }
    }
  }
  return { slots, reports };
}

/**
 * Drop a slot nobody reads any more, freeing what its value holds outside the JS heap
 * (e.g. the WebAssembly FFT memory of a lazily shifted image stack).
 */
function releaseSlot(slots: Map<string, unknown>, slot: string): void {
  disposeSlotValue(slots.get(slot));
  slots.delete(slot);
}

/** Call `dispose()` on a slot value that has one. */
export function disposeSlotValue(value: unknown): void {
  const d = (value as { dispose?: unknown } | null | undefined)?.dispose;
  if (typeof d === 'function') d.call(value);
}
