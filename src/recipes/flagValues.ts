/**
 * A parameter's value from the text a user typed for its flag, with one message wherever it is
 * typed: the command line (src/cli/flags.ts) and the browser app's form (web/src/params.ts).
 */
import { UsageError } from '../core/errors.js';
import { AUTO, type ParamDecl, type ParamValues } from './declare.js';

/** A number flag. */
export function parseNumberFlag(flag: string, text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new UsageError(`--${flag} expects a number, got '${text}'`);
  return v;
}

/** A flag that takes a number or 'auto'. */
export function parseAutoNumberFlag(flag: string, text: string): number | typeof AUTO {
  if (text.trim().toLowerCase() === AUTO) return AUTO;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new UsageError(`--${flag} expects a number or '${AUTO}', got '${text}'`);
  return v;
}

/**
 * A module's parameters where a user sets them by flag name (the command line, the browser
 * form): `getValue(name, decl)` gives the value typed for a parameter (undefined: not given, so
 * the flag's default); `overrides` win over both. Each value is validated by its schema, a
 * failure naming the flag as the user typed it.
 */
export function validatedParams<P extends Record<string, ParamDecl>>(
  decl: { params: P },
  getValue: (name: string, param: ParamDecl) => unknown,
  overrides: Partial<Record<keyof P, unknown>> = {},
): ParamValues<P> {
  const out: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(decl.params)) {
    const given = getValue(name, p);
    let v = given !== undefined ? given : (p.cliDefault ?? p.default);
    if (name in overrides) v = overrides[name];
    const r = p.schema.safeParse(v);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new UsageError(`--${p.flag ?? name}: ${issue?.message ?? 'invalid value'} (got ${JSON.stringify(v)})`);
    }
    out[name] = r.data;
  }
  // Every value passed its schema just above.
  return out as ParamValues<P>;
}
