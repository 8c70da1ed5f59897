/**
 * The parameter form's fields and their values, from the same module declarations as the CLI
 * flags (src/recipes/modules; src/cli/flags.ts derives the flags the same way): field name =
 * flag name, default = the flag's default, unit and help = the declaration's. The few options
 * the `locs` / `images` commands declare themselves (--refine, --breaks, --pixel-size, --bin,
 * …) are listed here with the CLI's help text. Values are parsed and validated as the CLI
 * parses its flags, with the same messages.
 */
import type { z } from 'zod';
import { UsageError } from '../../src/core/errors.js';
import { renderParams } from '../../src/core/messageParams.js';
import { acceptsAuto, type ModuleDecl, type ParamDecl, type ParamValues } from '../../src/recipes/declare.js';
import { describeSchema } from '../../src/recipes/describeModule.js';
import { parseAutoNumberFlag, parseNumberFlag, validatedParams } from '../../src/recipes/flagValues.js';
import { driftInterpolate } from '../../src/recipes/modules/driftInterpolate.js';
import { imagePostShift } from '../../src/recipes/modules/imagePostShift.js';
import { imagePreClipFilter } from '../../src/recipes/modules/imagePreClipFilter.js';
import { imageRcc } from '../../src/recipes/modules/imageRcc.js';
import { locsRcc } from '../../src/recipes/modules/locsRcc.js';
import { flagsOf, renderParamsFor } from '../../src/recipes/parameterNames.js';

export type FieldKind = 'number' | 'autoNumber' | 'enum' | 'boolean' | 'text';
export type DataKind = 'table' | 'stack';

export interface Field {
  /** The CLI flag without `--`; the form field's name. */
  flag: string;
  kind: FieldKind;
  /** Default as text ('' = not set), as the CLI's `--help` shows it. */
  default: string;
  choices?: string[];
  unit?: string;
  help: string;
  /** Accepted values in words (from the schema). */
  accepts?: string;
  /** The module the parameter belongs to, or 'ccdrift locs' / 'ccdrift images' for command options. */
  group: string;
}

/** Parameters that name files on disk: not offered in the browser (no file system to name). */
const FILE_PARAMS = new Set(['debug_cor_file', 'cache_fft']);

function kindOf(schema: z.ZodType): FieldKind | 'array' {
  const def = (schema as unknown as { def: { type: string } }).def;
  if (def.type === 'union' && acceptsAuto(schema)) return 'autoNumber';
  if (def.type === 'boolean' || def.type === 'number' || def.type === 'enum' || def.type === 'array') return def.type;
  return 'text';
}

function moduleFields(decl: ModuleDecl, only?: string[]): Field[] {
  const out: Field[] = [];
  for (const [name, p] of Object.entries(decl.params)) {
    if (!p.flag || FILE_PARAMS.has(name) || (only && !only.includes(name))) continue;
    const kind = kindOf(p.schema);
    if (kind === 'array') continue;
    const dflt = p.cliDefault ?? p.default;
    out.push({
      flag: p.flag,
      kind,
      default: kind === 'boolean' ? 'false' : String(dflt),
      choices: kind === 'enum' ? (p.schema as unknown as { options: string[] }).options : undefined,
      unit: p.unit,
      help: p.description,
      accepts: describeSchema(p.schema),
      group: decl.name,
    });
  }
  return out;
}

/** The options `ccdrift locs` declares itself (src/cli/commands/locs.ts), same names and help. */
const LOCS_OPTIONS: Field[] = [
  {
    flag: 'refine',
    kind: 'enum',
    choices: ['on', 'off'],
    default: 'on',
    help: 'the fine stage after RCC (segments against a leave-one-out reference; resolves fast drift and jumps)',
    group: 'ccdrift locs',
  },
  { flag: 'breaks', kind: 'text', default: 'auto', help: "frames where the drift jumps, e.g. 12000,20000; 'auto' detects them", group: 'ccdrift locs' },
  { flag: 'pixel-size', kind: 'number', default: '', unit: 'nm', help: 'camera pixel size in nm, for Picasso files and drift .txt', group: 'ccdrift locs' },
  { flag: 'table', kind: 'text', default: '', help: 'table inside an HDF5 file with several', group: 'ccdrift locs' },
  {
    flag: 'format',
    kind: 'enum',
    choices: ['', 'csv', 'tsv', 'hdf', 'hdf5'],
    default: '',
    help: "format of the corrected table (default: the input's; .h5r gives .hdf)",
    group: 'ccdrift locs',
  },
];

/** The CLI's --workers (src/cli/context.ts), in the browser: workers of the page. */
const WORKERS_OPTION: Field = {
  flag: 'workers',
  kind: 'number',
  default: '',
  help: 'workers for the correlations (default: all cores, at most 4; 1 = in the one numerics worker)',
  group: 'ccdrift locs',
};

/** The options `ccdrift images` declares itself (src/cli/commands/images.ts). */
const IMAGES_OPTIONS: Field[] = [
  {
    flag: 'prefilter',
    kind: 'boolean',
    default: 'true',
    help: 'pre-filter the frames before measuring (Image_Pre_Clip&Filter); off = --no-prefilter, measure on the raw frames',
    group: 'ccdrift images',
  },
  {
    flag: 'bin',
    kind: 'text',
    default: '',
    unit: 'x,y,t',
    help: 'bin pixels and time points before measuring (Image_Pre_Downsample binsize)',
    group: 'ccdrift images',
  },
  { flag: 'x-start', kind: 'number', default: '', unit: 'px', help: 'crop before measuring: first x pixel', group: 'ccdrift images' },
  {
    flag: 'x-end',
    kind: 'number',
    default: '',
    unit: 'px',
    help: 'crop: end of the x range (exclusive; −1 = through the last pixel)',
    group: 'ccdrift images',
  },
  { flag: 'y-start', kind: 'number', default: '', unit: 'px', help: 'crop: first y pixel', group: 'ccdrift images' },
  { flag: 'y-end', kind: 'number', default: '', unit: 'px', help: 'crop: end of the y range', group: 'ccdrift images' },
  {
    flag: 'voxel-size',
    kind: 'text',
    default: '',
    unit: 'nm x,y,z',
    help: 'voxel size in nm when the file does not say (must agree when it does)',
    group: 'ccdrift images',
  },
  { flag: 'float', kind: 'boolean', default: 'false', help: 'write float32 frames instead of the input dtype', group: 'ccdrift images' },
];

function dedupe(fields: Field[]): Field[] {
  const seen = new Set<string>();
  return fields.filter((f) => !seen.has(f.flag) && seen.add(f.flag));
}

/** The form's fields for a table or a stack, in the order `ccdrift locs|images --help` lists them. */
export function fieldsFor(kind: DataKind): Field[] {
  if (kind === 'table') return dedupe([...LOCS_OPTIONS, WORKERS_OPTION, ...moduleFields(locsRcc), ...moduleFields(driftInterpolate)]);
  return dedupe([
    ...IMAGES_OPTIONS,
    { ...WORKERS_OPTION, group: 'ccdrift images' },
    ...moduleFields(imagePostShift),
    ...moduleFields(imagePreClipFilter),
    ...moduleFields(imageRcc),
    ...moduleFields(driftInterpolate),
  ]);
}

/** Form values: flag → text ('' = not given), booleans as 'true'/'false'. */
export type FormValues = Record<string, string>;

export { parseNumberFlag };

/** "a,b,c" → three numbers, with the CLI's message (src/cli/commands/images.ts parseTriple). */
export function parseTriple(flag: string, text: string): [number, number, number] {
  const parts = text.split(',').map((s) => s.trim());
  const v = parts.map(Number);
  if (parts.length !== 3 || v.some((x, i) => parts[i] === '' || !Number.isFinite(x))) {
    throw new UsageError(`--${flag} expects three comma-separated numbers (x,y,${flag === 'bin' ? 't' : 'z'}), got '${text}'`);
  }
  return v as [number, number, number];
}

/** A form value for a module flag as the CLI's argument parser would give it (undefined: not given). */
function flagValue(values: FormValues, flag: string, kind: FieldKind | 'array'): unknown {
  const text = values[flag];
  if (text === undefined || (text.trim() === '' && kind !== 'text')) return undefined;
  if (kind === 'number') return parseNumberFlag(flag, text);
  if (kind === 'autoNumber') return parseAutoNumberFlag(flag, text);
  if (kind === 'boolean') return text === 'true';
  return text;
}

/** A module's parameters from the form (the flag default where empty), validated as the CLI's flags (validatedParams). */
export function paramsFromForm<P extends Record<string, ParamDecl>>(
  decl: { params: P },
  values: FormValues,
  overrides: Partial<Record<keyof P, unknown>> = {},
): ParamValues<P> {
  return validatedParams(decl, (name, p) => (p.flag && !FILE_PARAMS.has(name) ? flagValue(values, p.flag, kindOf(p.schema)) : undefined), overrides);
}

/** An optional number option ('' = not given). */
export function optionalNumber(values: FormValues, flag: string): number | undefined {
  const t = values[flag];
  return t === undefined || t.trim() === '' ? undefined : parseNumberFlag(flag, t);
}

/**
 * A core message or warning as the form's user reads it (src/core/messageParams.ts): each marked
 * library option shown as the field it is typed in (`--binsize`, the field's label), or as the
 * recipe's parameter when Run runs a recipe (as `ccdrift run` shows it).
 */
export function renderForForm(text: string, kind: DataKind | undefined, recipe: boolean): string {
  if (recipe) return renderParamsFor(text, 'recipe');
  const fields = new Set((kind ? fieldsFor(kind) : [...fieldsFor('table'), ...fieldsFor('stack')]).map((f) => `--${f.flag}`));
  return renderParams(text, (option) => flagsOf(option).find((flag) => fields.has(flag)));
}
