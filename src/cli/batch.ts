/**
 * Several inputs in one command, as microscopists run them (issue 13): shell-expanded names and
 * quoted globs (`'run2/*.hdf5'`, `'raw/**\/*.csv'`), Picasso-style output names beside each input
 * (or in `--out-dir`), one result line per file, a failing file reported while the others go on,
 * and a summary table at the end. The commands (locs, images, apply) supply what one file does.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { tmpdir } from 'node:os';
import { removeStaleTemporaries, withOutputBatch } from '../io/atomic.js';
import { renderParamsFor } from '../recipes/parameterNames.js';
import { checkOutputPlan, type PlannedFile } from './outputPlan.js';

/** The suffix of a corrected table or stack (Picasso's `_undrift`). */
export const UNDRIFT_SUFFIX = '_undrift';
/** The suffix of a drift file written beside its input. */
export const DRIFT_SUFFIX = '_drift';

const GLOB_CHARS = /[*?[]/;

/** One path segment's glob (`*`, `?`, `[abc]`, `[!abc]`) as a regular expression. */
function segmentRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let body = segment.slice(i + 1, close);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function listDir(dir: string): { name: string; isDir: boolean }[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).map((d) => ({
      name: d.name,
      isDir: d.isDirectory() || (d.isSymbolicLink() && statSync(join(dir, d.name), { throwIfNoEntry: false })?.isDirectory() === true),
    }));
  } catch {
    return [];
  }
}

/**
 * Files matching a glob pattern, sorted. `*`, `?` and `[…]` match within one path segment;
 * a `**` segment matches any number of folders. Names starting with a dot match only a pattern
 * segment that starts with a dot (as in the shell).
 */
export function expandGlob(pattern: string): string[] {
  const absolute = pattern.startsWith('/');
  const segments = pattern.split(/[\\/]+/).filter((s, i) => s !== '' || i === 0);
  const out = new Set<string>();
  const walk = (dir: string, shown: string, k: number): void => {
    if (k === segments.length) {
      if (statSync(dir, { throwIfNoEntry: false })?.isFile()) out.add(shown);
      return;
    }
    const seg = segments[k];
    const join2 = (name: string) => (shown === '' ? name : shown.endsWith('/') ? `${shown}${name}` : `${shown}/${name}`);
    if (seg === '**') {
      walk(dir, shown, k + 1);
      for (const e of listDir(dir)) if (e.isDir && !e.name.startsWith('.')) walk(join(dir, e.name), join2(e.name), k);
      return;
    }
    if (!GLOB_CHARS.test(seg)) {
      walk(join(dir, seg), join2(seg), k + 1);
      return;
    }
    const re = segmentRegExp(seg);
    for (const e of listDir(dir)) {
      if (e.name.startsWith('.') && !seg.startsWith('.')) continue;
      if (!re.test(e.name)) continue;
      if (k < segments.length - 1 && !e.isDir) continue;
      walk(join(dir, e.name), join2(e.name), k + 1);
    }
  };
  if (absolute) walk('/', '/', segments[0] === '' ? 1 : 0);
  else walk('.', '', 0);
  return [...out].sort();
}

export interface ExpandedInputs {
  /** Files to process, in the order given (each glob's matches sorted), without duplicates. */
  files: string[];
  /** Arguments that gave nothing to process, with why: reported as failures of the batch. */
  problems: { input: string; message: string }[];
  /** Files a glob matched but that are ccdrift's own outputs (`*_undrift.*`, `*_drift.*`): skipped. */
  skipped: string[];
}

/**
 * The inputs of a command that takes several (locs, images, apply): expanded, ccdrift's own
 * outputs skipped (and said), and whether they make a batch — where one `-o` cannot name them.
 */
export function batchInputs(
  args: readonly string[],
  accepts: (path: string) => boolean,
  output: string | undefined,
  say: (message: string) => void,
): ExpandedInputs & { batch: boolean } {
  const expanded = expandInputs(args, accepts);
  for (const f of expanded.skipped) say(`skipping ${f}: a ccdrift output (name ends in ${UNDRIFT_SUFFIX} or ${DRIFT_SUFFIX})`);
  const count = expanded.files.length + expanded.problems.length;
  const batch = count > 1;
  if (batch && output) {
    throw new UsageError(
      `-o names one output, but there are ${count} inputs; drop -o (each gets <name>${UNDRIFT_SUFFIX}.<ext>) and use --out-dir DIR for another folder`,
    );
  }
  return { ...expanded, batch };
}

/**
 * Expand the command's input arguments. A quoted glob matches only files whose extension the
 * command reads (`accepts`), and never ccdrift's own outputs (`X_undrift.hdf5`, `X_drift.npz`),
 * so a batch run again over the same folder does not correct its results a second time. Names
 * given literally are taken as they are (a missing one is reported when its turn comes).
 */
export function expandInputs(args: readonly string[], accepts: (path: string) => boolean): ExpandedInputs {
  const files: string[] = [];
  const problems: ExpandedInputs['problems'] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  const add = (f: string) => {
    const key = resolve(f);
    if (!seen.has(key)) {
      seen.add(key);
      files.push(f);
    }
  };
  for (const arg of args) {
    if (!GLOB_CHARS.test(arg) || existsSync(arg)) {
      add(arg);
      continue;
    }
    const matches = expandGlob(arg);
    const readable = matches.filter((m) => accepts(m));
    const own = readable.filter((m) => isOwnOutput(m));
    skipped.push(...own);
    const usable = readable.filter((m) => !isOwnOutput(m));
    if (usable.length === 0) {
      const why =
        matches.length === 0
          ? 'no file matches it'
          : `${matches.length} file(s) match it but none is an input this command reads${own.length ? ' (ccdrift outputs are skipped)' : ''}`;
      problems.push({ input: arg, message: `'${arg}': ${why}` });
    }
    for (const m of usable) add(m);
  }
  return { files, problems, skipped };
}

/** ccdrift's own outputs by name: `<stem>_undrift.<ext>`, `<stem>_drift.<ext>`. */
export function isOwnOutput(path: string): boolean {
  const stem = basename(path, extname(path));
  return stem.endsWith(UNDRIFT_SUFFIX) || stem.endsWith(DRIFT_SUFFIX);
}

/** `<dir>/<stem><suffix><ext>`: beside the input, or in `outDir`. `ext` includes the dot. */
export function outputBeside(input: string, suffix: string, ext: string, outDir?: string): string {
  const stem = basename(input, extname(input));
  const dir = outDir ?? dirname(input);
  return dir === '.' && !outDir ? `${stem}${suffix}${ext}` : join(dir, `${stem}${suffix}${ext}`);
}

/**
 * A flag that names a file per input in a batch: a bare extension (`--plot png`, `--per-frame
 * .txt`) means `<stem>_drift.<ext>` beside each input (or in --out-dir); a path is taken as it
 * is, allowed only for a single input.
 */
export function perInputPath(
  flag: string,
  value: string | undefined,
  input: string,
  batch: boolean,
  outDir: string | undefined,
  extensions: readonly string[],
): string | undefined {
  if (!value) return undefined;
  const bare = value.replace(/^\./, '').toLowerCase();
  if (extensions.includes(bare)) return outputBeside(input, DRIFT_SUFFIX, `.${bare}`, outDir);
  if (batch) {
    throw new UsageError(
      `${flag} ${value}: with several inputs every file needs its own ${flag}; give an extension instead (${extensions.join(', ')}) to write <name>_drift.<ext> beside each input (or in --out-dir)`,
    );
  }
  return value;
}

/** Refuse outputs that exist already, unless --force: default names never replace a file silently. */
export function refuseExisting(files: readonly PlannedFile[], force: boolean | undefined, other = 'or choose --out-dir'): void {
  if (force) return;
  for (const f of files) {
    if (existsSync(f.path)) {
      throw new UsageError(`${f.what} ${f.path} already exists; ccdrift does not replace it without --force (${other})`);
    }
  }
}

export interface FileResult {
  input: string;
  rows?: number;
  /** e.g. "x −12.0 … 140.2, y −3.1 … 88.0 nm". */
  span?: string;
  /** 'ok', or the error message. */
  result: string;
  ok: boolean;
  written?: string[];
}

/** The summary table of a batch (one line per file). */
export function formatSummary(results: readonly FileResult[]): string {
  const head = ['file', 'rows', 'drift span (nm)', 'result'];
  const rows = results.map((r) => [r.input, r.rows === undefined ? '—' : String(r.rows), r.span ?? '—', r.ok ? 'ok' : `FAILED: ${r.result}`]);
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => (i === 3 ? 0 : r[i].length)))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const failed = results.filter((r) => !r.ok).length;
  return [line(head), ...rows.map(line), `${results.length - failed} of ${results.length} file(s) corrected${failed ? `, ${failed} failed` : ''}`].join('\n');
}

/** Thrown at the end of a batch with failures: exit code 1, after every file had its turn. */
export class BatchFailedError extends Error {
  override name = 'BatchFailedError';
}

export interface BatchPlan {
  input: string;
  outputs: PlannedFile[];
  /** Outputs named by ccdrift (not by the user): refused when they exist, unless --force. */
  defaults: PlannedFile[];
  scratch?: PlannedFile[];
}

/**
 * Check every file's outputs before any data is read (outputPlan.ts), also across files (two
 * inputs of the same name in different folders going to one --out-dir). Returns the per-file
 * problem, if any.
 */
export function checkBatchPlans(plans: readonly BatchPlan[], allInputs: readonly string[], force: boolean | undefined): Map<string, string> {
  const problems = new Map<string, string>();
  const claimed = new Map<string, string>();
  for (const p of plans) {
    try {
      checkOutputPlan(allInputs, p.outputs, p.scratch ?? []);
      refuseExisting(p.defaults, force);
      for (const o of p.outputs) {
        const key = resolve(o.path);
        const other = claimed.get(key);
        if (other !== undefined)
          throw new UsageError(`${o.what} ${o.path} is also the output of ${other}: inputs with the same name need different folders (drop --out-dir)`);
      }
      for (const o of p.outputs) claimed.set(resolve(o.path), p.input);
    } catch (err) {
      problems.set(p.input, (err as Error).message);
    }
  }
  return problems;
}

/**
 * Mark the outputs placed in --out-dir (`outDir`) as made by the run: the checks accept that
 * folder missing (checkFolderCanBeMade vouches for it), and makeOutputFolders creates it when the
 * file's turn comes, so a command refused by its checks leaves no empty folder behind.
 */
export function inOutDir(outputs: readonly PlannedFile[], outDir: string | undefined): PlannedFile[] {
  if (!outDir) return [...outputs];
  const dir = resolve(outDir);
  return outputs.map((o) => (dirname(resolve(o.path)) === dir ? { ...o, folderMadeByRun: true } : o));
}

/**
 * The folders of `outputs` that the run makes (PlannedFile.folderMadeByRun, e.g. a new
 * --out-dir): made after every check passed, just before the outputs are written.
 */
export async function makeOutputFolders(outputs: readonly PlannedFile[]): Promise<void> {
  for (const o of outputs) if (o.folderMadeByRun) await mkdir(dirname(resolve(o.path)), { recursive: true });
}

/**
 * Run `one` over the inputs in turn. A failing file is reported (its message on stderr) and the
 * others go on; the summary table goes to stdout; the batch throws BatchFailedError at the end
 * when any file failed (exit code 1).
 */
export async function runBatch(
  plans: readonly BatchPlan[],
  planProblems: ReadonlyMap<string, string>,
  earlyFailures: readonly { input: string; message: string }[],
  one: (plan: BatchPlan) => Promise<Omit<FileResult, 'input' | 'ok' | 'result'>>,
  report: (line: string) => void,
): Promise<FileResult[]> {
  // Failures are reported on stderr even with --quiet; progress lines go through `report`.
  const fail = (line: string) => process.stderr.write(`ccdrift: ${line}\n`);
  // Messages usually start with the file already ("a.csv: no t column"): say it once.
  const about = (input: string, message: string) => (message.startsWith(input) ? message : `${input}: ${message}`);
  const short = (input: string, message: string) => (message.startsWith(`${input}: `) ? message.slice(input.length + 2) : message);
  const results: FileResult[] = earlyFailures.map((f) => ({ input: f.input, result: f.message, ok: false }));
  for (const f of earlyFailures) fail(f.message);
  for (const [k, plan] of plans.entries()) {
    const problem = planProblems.get(plan.input);
    report(`[${k + 1}/${plans.length}] ${plan.input}`);
    if (problem) {
      fail(about(plan.input, problem));
      results.push({ input: plan.input, result: short(plan.input, problem), ok: false });
      continue;
    }
    try {
      await makeOutputFolders(plan.outputs);
      // Each file's outputs are all or nothing on their own (the command's batch would discard them all).
      const r = await withOutputBatch(() => one(plan), undefined, { own: true });
      results.push({ input: plan.input, ...r, result: 'ok', ok: true });
    } catch (err) {
      // A core message names library options: shown as the commands' flags (batches are locs, images, apply).
      const message = renderParamsFor((err as Error).message, 'flag');
      fail(about(plan.input, message));
      results.push({ input: plan.input, result: short(plan.input, message), ok: false });
    }
  }
  process.stdout.write(`${formatSummary(results)}\n`);
  const failed = results.filter((r) => !r.ok).length;
  if (failed) throw new BatchFailedError(`${failed} of ${results.length} input(s) failed (see the table above)`);
  return results;
}

/** "x a … b, y c … d[, z e … f]" of a drift trace, nm. */
export function driftSpan(trace: { x: ArrayLike<number>; y: ArrayLike<number>; z: ArrayLike<number> }, withZ: boolean): string {
  const span = (v: ArrayLike<number>) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < v.length; i++) {
      if (v[i] < lo) lo = v[i];
      if (v[i] > hi) hi = v[i];
    }
    return `${lo.toFixed(1)} … ${hi.toFixed(1)}`;
  };
  return `x ${span(trace.x)}, y ${span(trace.y)}${withZ ? `, z ${span(trace.z)}` : ''}`;
}

/** Remove what dead ccdrift runs left in the batch's output folders and the temporary folder. */
export async function removeStaleOutputs(plans: readonly BatchPlan[], report: (message: string) => void): Promise<void> {
  const dirs = new Set<string>([tmpdir()]);
  for (const p of plans) for (const o of [...p.outputs, ...(p.scratch ?? [])]) dirs.add(dirname(resolve(o.path)));
  for (const path of await removeStaleTemporaries([...dirs])) report(`removed ${path}, left behind by a ccdrift run that no longer exists`);
}
