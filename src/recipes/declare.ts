/**
 * One declaration per recipe module (PYME's recipes/base.py idea): name, summary, input and
 * output slots, parameters with type (a zod schema), default, unit and description. From it
 * the project derives recipe validation, `ccdrift modules` help and the flags of the
 * `locs`/`images`/`apply` commands, so a default is written in exactly one place.
 */
import { z } from 'zod';
import type { CorrelationExecutor } from '../core/registration/correlationExecutor.js';
import type { DriftInterpolator, DriftTrace, ImageStack, LocTable, ProgressReporter } from '../core/types.js';
import type { DriftPlotData } from '../plot/driftPlot.js';
import type { CrossCorrelationStack } from './modules/locsRcc.js';

export interface ParamDecl {
  schema: z.ZodType;
  default: unknown;
  unit?: string;
  description: string;
  /** Command-line flag (kebab-case, without --) when the parameter is exposed there. */
  flag?: string;
  /**
   * The flag's default when it differs from the recipe default: recipes keep the original's
   * defaults, the commands choose from the data ('auto').
   */
  cliDefault?: unknown;
  /**
   * Set for parameters the original had that ccdrift accepts but does not need; the text
   * says what they do here (shown by `ccdrift modules`).
   */
  compatibility?: string;
  /**
   * The parameter is a file path (relative to the working directory) where the recipe runner
   * writes the named output when the path is not '' (e.g. Locs_RCC's `debug_cor_file`).
   */
  savesOutput?: string;
}

/**
 * What a slot holds, by kind: the type a module's `run` receives for an input of that kind and
 * returns for an output, checked by the recipe runner (isSlotValue) before the module runs.
 */
export interface SlotValues {
  table: LocTable;
  image: ImageStack;
  drift: DriftTrace;
  interpolator: DriftInterpolator;
  'cross-correlation': CrossCorrelationStack;
  plot: DriftPlotData;
  /** Any value: an input that only orders modules (Drift_Load_Interpolate's input_dummy), a placeholder output. */
  any: unknown;
}
export type SlotKind = keyof SlotValues;

/** What a kind is called in messages. */
export const SLOT_KIND_NAMES: Readonly<Record<SlotKind, string>> = {
  table: 'a localization table',
  image: 'an image stack',
  drift: 'drift samples',
  interpolator: 'a drift interpolator',
  'cross-correlation': 'a stack of correlation images',
  plot: 'a drift plot',
  any: 'anything',
};

/** Whether `value` is a slot value of `kind` (the runtime side of SlotValues). */
export function isSlotValue<K extends SlotKind>(kind: K, value: unknown): value is SlotValues[K] {
  if (kind === 'any') return true;
  if (value === null || typeof value !== 'object') return false;
  const o = value as Record<string, unknown>;
  switch (kind) {
    case 'table':
      return o.columns instanceof Map && typeof o.length === 'number';
    case 'image':
      return typeof o.readFrame === 'function' && typeof o.frames === 'number';
    case 'drift':
      return o.t instanceof Float64Array && o.x instanceof Float64Array && o.y instanceof Float64Array;
    case 'interpolator':
      return typeof o.evaluate === 'function';
    case 'cross-correlation':
      return Array.isArray(o.images) && o.pairs instanceof Int32Array;
    case 'plot':
      return Array.isArray(o.sources);
  }
  return false;
}

/** What a value is, for a message saying it is not what a slot wanted. */
export function describeSlotValue(value: unknown): string {
  for (const kind of Object.keys(SLOT_KIND_NAMES) as SlotKind[]) if (kind !== 'any' && isSlotValue(kind, value)) return SLOT_KIND_NAMES[kind];
  return value === null || value === undefined ? 'nothing' : typeof value === 'object' ? 'an object of another kind' : `a ${typeof value}`;
}

export interface SlotDecl<K extends SlotKind = SlotKind> {
  /** What the slot holds. */
  kind: K;
  /** Default slot name in the recipe namespace. */
  default: string;
  description: string;
  /**
   * Debug or optional output computed only on request (a `--save` of its slot, a consumer, or
   * a parameter with `savesOutput`); never saved by default.
   */
  onRequest?: boolean;
  /**
   * An input a recipe may leave out (or set to ''): the module then receives undefined
   * (e.g. Locs_Fiducial's input_drift, the drift of a method before it).
   */
  optional?: boolean;
}

/** What a running module may use besides its inputs. */
export interface RunContext {
  executor: CorrelationExecutor;
  progress?: ProgressReporter;
  /** Directory relative paths in parameters (load_paths, save_path) resolve against. */
  cwd: string;
  /** The recipe text, recorded as provenance in written files. */
  recipeText?: string;
  /** The input file's name, for plot titles. */
  inputName?: string;
  /**
   * Output parameter names of the running module whose values someone uses (a later module,
   * a save). Modules may skip optional work for the others; undefined means all are used.
   */
  wantedOutputs?: ReadonlySet<string>;
}

/** A module's parameter values as its schemas parse them. */
export type ParamValues<P extends Record<string, ParamDecl>> = { [K in keyof P]: z.infer<P[K]['schema']> };
/** A module's slot values by parameter name, typed by their declared kinds (undefined for an optional input left out). */
export type SlotValuesOf<S extends Record<string, SlotDecl>> = {
  [K in keyof S]: S[K] extends { optional: true } ? SlotValues[S[K]['kind']] | undefined : SlotValues[S[K]['kind']];
};
/** What `run` returns: outputs by parameter name (an on-request output may be absent), a report, the details. */
export type ModuleOutputs<O extends Record<string, SlotDecl>, D = unknown> = Partial<SlotValuesOf<O>> & { [REPORT_KEY]?: string; [DETAILS_KEY]?: D };

/**
 * A module as it is written: `run` receives inputs typed by their slot kinds and parameters
 * typed by their schemas, and returns outputs typed the same way — no casts in module code. The
 * recipe runner checks each input against its kind before `run` is called.
 */
export interface TypedModuleDecl<P extends Record<string, ParamDecl>, I extends Record<string, SlotDecl>, O extends Record<string, SlotDecl>, D = unknown> {
  name: string;
  summary: string;
  inputs: I;
  outputs: O;
  params: P;
  /** `D`: the estimator's whole result the module returns under DETAILS_KEY (read it with detailsOf). */
  run(ctx: RunContext, inputs: SlotValuesOf<I>, params: ParamValues<P>): Promise<ModuleOutputs<O, D>>;
}

/** Declare a module (types inferred from the declaration; see TypedModuleDecl). */
export function defineModule<P extends Record<string, ParamDecl>, I extends Record<string, SlotDecl>, O extends Record<string, SlotDecl>, D = unknown>(
  decl: TypedModuleDecl<P, I, O, D>,
): TypedModuleDecl<P, I, O, D> {
  return decl;
}

/** Any module, its types erased: how the registry, the parser and the runner hold them. */
export interface ModuleDecl {
  /** Full name as in the original's recipes, e.g. `chung_cc.Locs_RCC`. */
  name: string;
  summary: string;
  /** Parameters naming input slots (e.g. input_for_correction). */
  inputs: Record<string, SlotDecl>;
  /** Parameters naming output slots (e.g. output_drift). */
  outputs: Record<string, SlotDecl>;
  params: Record<string, ParamDecl>;
  /**
   * Run with resolved inputs (keyed by input parameter name) and validated parameters;
   * return values keyed by output parameter name.
   */
  run(ctx: RunContext, inputs: Record<string, unknown>, params: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** Key of an optional one-line summary a module may return next to its outputs (printed by the CLI). */
export const REPORT_KEY = '__report';
/** A module's one-line report from its outputs ('' when it gave none). */
export function reportOf(outputs: Record<string, unknown>): string {
  const r = outputs[REPORT_KEY];
  return typeof r === 'string' ? r : '';
}

/** Key of the estimator's whole result a module may return too (for `--report`; never saved). */
export const DETAILS_KEY = '__details';

/**
 * The details (DETAILS_KEY) in `outputs`, typed as `decl` returns them. `outputs` must be what a
 * run of `decl` returned (e.g. as RecipeRunOptions.onStepDone hands them over for its step).
 */
export function detailsOf<D>(
  decl: { run(ctx: RunContext, inputs: never, params: never): Promise<{ [DETAILS_KEY]?: D }> },
  outputs: Readonly<Record<string, unknown>> | undefined,
): D | undefined {
  // The value is what decl.run put there (the caller's contract above).
  return outputs?.[DETAILS_KEY] as D | undefined;
}

/** Default values of a declaration's parameters. */
export function defaultParams<P extends Record<string, ParamDecl>>(decl: { params: P }): ParamValues<P> {
  // A declared default is a value of its schema (test/recipes/modules.test.ts parses every one).
  return Object.fromEntries(Object.entries(decl.params).map(([k, p]) => [k, p.default])) as ParamValues<P>;
}

/** The value that asks ccdrift to choose a parameter from the data. */
export const AUTO = 'auto';

/** A parameter that takes `schema`'s values or 'auto'. */
export function autoOr<T extends z.ZodType>(schema: T) {
  return z.union([z.literal(AUTO), schema]);
}

/** Does this schema accept 'auto' (see autoOr)? */
export function acceptsAuto(schema: z.ZodType): boolean {
  return schema.safeParse(AUTO).success;
}

/** Shared parameter schemas. */
export const schemas = {
  positiveNumber: z.number().positive(),
  number: z.number(),
  wholeNumber: z.number().int(),
  boolean: z.boolean(),
  path: z.string(),
  method: z.enum(['RCC', 'MCC', 'DCC']),
  degree: z.number().int().min(1).max(5),
  extrapolation: z.enum(['linear', 'spline', 'constant']),
  fraction: z.number().min(0).max(1),
};
