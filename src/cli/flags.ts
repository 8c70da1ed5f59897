/**
 * Command-line flags derived from the recipe module declarations: the flag name, type,
 * default and help text come from the one declaration (src/recipes/declare.ts).
 */
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { UsageError } from '../core/errors.js';
import { parseAutoNumberFlag, parseNumberFlag, validatedParams } from '../recipes/flagValues.js';
import { acceptsAuto, type ModuleDecl, type ParamDecl, type ParamValues } from '../recipes/declare.js';

function describe(p: ParamDecl): string {
  return p.description + (p.unit ? ` (${p.unit})` : '');
}

function kindOf(schema: z.ZodType): 'boolean' | 'number' | 'enum' | 'string' | 'array' | 'autoNumber' {
  const def = (schema as unknown as { def: { type: string } }).def;
  if (def.type === 'union' && acceptsAuto(schema)) return 'autoNumber';
  switch (def.type) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'enum':
      return 'enum';
    case 'array':
      return 'array';
    default:
      return 'string';
  }
}

/** Add the flags of `decl`'s parameters that declare one. */
export function addModuleFlags(cmd: Command, decl: ModuleDecl, only?: string[]): void {
  for (const [name, p] of Object.entries(decl.params)) {
    if (!p.flag || (only && !only.includes(name))) continue;
    const kind = kindOf(p.schema);
    if (kind === 'array') continue; // repeated flags (e.g. --drift) are declared by the command
    if (kind === 'boolean') {
      cmd.addOption(new Option(`--${p.flag}`, describe(p)));
      continue;
    }
    const opt = new Option(`--${p.flag} <${kind === 'number' ? 'n' : kind === 'autoNumber' ? 'n|auto' : 'value'}>`, describe(p)).default(
      p.cliDefault ?? p.default,
    );
    if (kind === 'enum') opt.choices((p.schema as unknown as { options: string[] }).options);
    if (kind === 'number') opt.argParser((v: string) => parseNumberFlag(p.flag!, v));
    if (kind === 'autoNumber') {
      opt.argParser((v: string) => parseAutoNumberFlag(p.flag!, v));
    }
    cmd.addOption(opt);
  }
}

export { parseNumberFlag };

/** A number flag that must be > 0 (a pixel size): refused when parsed, naming the flag. */
export function parsePositiveFlag(flag: string, text: string): number {
  const v = parseNumberFlag(flag, text);
  if (!(v > 0)) throw new UsageError(`--${flag} expects a number > 0, got '${text}'`);
  return v;
}

/** A number flag that must be ≥ 0 (a padding). */
export function parseNonNegativeFlag(flag: string, text: string): number {
  const v = parseNumberFlag(flag, text);
  if (!(v >= 0)) throw new UsageError(`--${flag} expects a number ≥ 0, got '${text}'`);
  return v;
}

/** commander's camelCase option key for a flag. */
function optionKey(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Parameters of `decl` from parsed options (defaults where a flag was not given), validated. */
export function paramsFromFlags<P extends Record<string, ParamDecl>>(
  decl: { params: P },
  opts: Record<string, unknown>,
  overrides: Partial<Record<keyof P, unknown>> = {},
): ParamValues<P> {
  return validatedParams(decl, (_name, p) => (p.flag ? opts[optionKey(p.flag)] : undefined), overrides);
}
