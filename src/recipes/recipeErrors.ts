/**
 * Recipe problems found before anything runs. Validation collects every problem of a recipe
 * (PYME's base.py reports one at a time; a user fixing a recipe wants them all at once) and
 * throws one `RecipeError` listing them, each with the recipe item it concerns.
 */
import { UsageError } from '../core/errors.js';

export type RecipeProblemKind =
  'syntax' | 'unknown-module' | 'ambiguous-module' | 'unknown-parameter' | 'invalid-value' | 'missing-input' | 'duplicate-output' | 'cycle' | 'unknown-slot';

export interface RecipeProblem {
  kind: RecipeProblemKind;
  /** 1-based position of the item in the recipe list, when the problem belongs to one. */
  item?: number;
  /** Module name as written in the recipe. */
  module?: string;
  message: string;
}

/** Text of one problem: `item 3 (chung_cc.Locs_RCC): …`. */
export function formatProblem(p: RecipeProblem): string {
  const where = p.item !== undefined ? `item ${p.item}${p.module ? ` (${p.module})` : ''}: ` : '';
  return where + p.message;
}

/** Every problem of a recipe; a usage error (exit code 2) since the recipe must be edited. */
export class RecipeError extends UsageError {
  override name = 'RecipeError';
  readonly problems: RecipeProblem[];

  constructor(problems: RecipeProblem[], source = 'recipe') {
    const lines = problems.map((p) => `  ${formatProblem(p)}`);
    const head = problems.length === 1 ? `${source} has a problem:` : `${source} has ${problems.length} problems:`;
    super(`${head}\n${lines.join('\n')}`);
    this.problems = problems;
  }
}

/** Levenshtein distance, case-insensitive (for "did you mean"). */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[t.length];
}

/**
 * The candidates closest to `name` (distance at most a third of its length, at least 2),
 * best first; a candidate containing `name` (or contained in it) also counts.
 */
export function closestNames(name: string, candidates: Iterable<string>, max = 3): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3));
  const lower = name.toLowerCase();
  const scored: [number, string][] = [];
  for (const c of new Set(candidates)) {
    const d = editDistance(name, c);
    const cl = c.toLowerCase();
    const contains = lower.length >= 3 && (cl.includes(lower) || lower.includes(cl));
    if (d <= limit || contains) scored.push([contains ? Math.min(d, limit) : d, c]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
  return scored.slice(0, max).map(([, c]) => c);
}

/** "; did you mean 'a' or 'b'?" or ''. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const best = closestNames(name, candidates);
  if (best.length === 0) return '';
  return `; did you mean ${best.map((b) => `'${b}'`).join(' or ')}?`;
}

/**
 * A module failed while the recipe ran: which item it was, with the module's own error as
 * `cause`, unchanged (its class decides the exit code; src/cli/errorMessage.ts renders it).
 */
export class RecipeStepError extends Error {
  override name = 'RecipeStepError';
  constructor(
    readonly where: string,
    cause: unknown,
  ) {
    super(`${where}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
