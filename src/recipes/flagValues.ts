/**
 * A parameter's value from the text a user typed for its flag, with one message wherever it is
 * typed: the command line (src/cli/flags.ts) and the browser app's form (web/src/params.ts).
 */
import { UsageError } from '../core/errors.js';
import { AUTO } from './declare.js';

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
