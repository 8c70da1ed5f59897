/**
 * One declaration per recipe module (PYME's recipes/base.py idea): name, summary, input and
 * output slots, parameters with type (a zod schema), default, unit and description. From it
 * the project derives recipe validation, `ccdrift modules` help and the flags of the
 * `locs`/`images`/`apply` commands, so a default is written in exactly one place.
 */
import { z } from 'zod';
import type { CorrelationExecutor } from '../core/registration/correlationExecutor.js';
import type { ProgressReporter } from '../core/types.js';

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

export interface SlotDecl {
  /** Default slot name in the recipe namespace. */
  default: string;
  description: string;
  /**
   * Debug or optional output computed only on request (a `--save` of its slot, a consumer, or
   * a parameter with `savesOutput`); never saved by default.
   */
  onRequest?: boolean;
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

/** Default values of a declaration's parameters. */
export function defaultParams(decl: ModuleDecl): Record<string, unknown> {
  return Object.fromEntries(Object.entries(decl.params).map(([k, p]) => [k, p.default]));
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
