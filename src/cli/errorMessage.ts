/**
 * Errors as the user reads them (issue 12): a file-system failure says which path and what it
 * means in words (no ENOSPC / EISDIR codes), a WebAssembly memory reservation refused by a
 * virtual-memory limit (`ulimit -v`) says what happened and what to do, and a RangeError from a
 * size beyond memory says so. The exit code: 2 for usage errors, 1 for everything else.
 */
import { readFileSync } from 'node:fs';
import { InputError, InsufficientDataError, UsageError } from '../core/errors.js';
import { formatBytes, MemoryLimitError } from '../core/memoryLimit.js';
import { renderParamsFor } from '../recipes/parameterNames.js';
import { RecipeStepError } from '../recipes/recipeErrors.js';

/** What a file-system error code means, phrased after the path. */
const FS_MESSAGES: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder, expected a file',
  ENOTDIR: 'a part of this path is not a folder',
  ENOSPC: 'no space left on the device (the disk is full); free some space or write elsewhere',
  EDQUOT: 'disk quota exceeded; free some space or write elsewhere',
  EROFS: 'the file system is read-only; write elsewhere',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  EIO: 'input/output error (a failing disk or network share?)',
  EFBIG: 'the file is too large for this file system',
  ELOOP: 'too many symbolic links',
  EBUSY: 'the file is busy',
};

const SYSCALL_VERBS: Record<string, string> = {
  open: 'opening',
  read: 'reading',
  write: 'writing',
  rename: 'moving into place',
  mkdir: 'creating',
  scandir: 'listing',
  stat: 'looking at',
  unlink: 'removing',
  copyfile: 'copying',
  fsync: 'flushing',
  close: 'closing',
};

/** `.out.csv.1234.0a1b2c3d.tmp` or `.out.csv.1234.0a1b2c3d.tmp/out.csv` → `out.csv` (temporaryPathFor). */
const TEMPORARY_NAME = /(^|\/)\.(.+)\.\d+\.[0-9a-f]{8}\.tmp(\/[^/]+)?$/;

function fsMessage(e: NodeJS.ErrnoException): string | undefined {
  const meaning = e.code ? FS_MESSAGES[e.code] : undefined;
  if (!meaning) return undefined;
  const verb = e.syscall ? SYSCALL_VERBS[e.syscall] : undefined;
  const path = e.path ?? (typeof e.message === 'string' ? /'([^']+)'/.exec(e.message)?.[1] : undefined);
  // An error of ours that carries a code and already says it in words: keep its message.
  if (!path && typeof e.message === 'string' && !e.message.startsWith(`${e.code}:`)) return e.message;
  const dest = (e as { dest?: string }).dest;
  // A temporary output (io/atomic.ts) is named by the output it stands for.
  const shown = (p: string) => p.replace(TEMPORARY_NAME, '$1$2');
  const where = path ? `${shown(path)}${dest ? ` → ${shown(dest)}` : ''}` : 'a file';
  return `${where}: ${meaning}${verb ? ` (while ${verb} it)` : ''}`;
}

/** `ulimit -v` in bytes, or undefined when unlimited or unknown (Linux: /proc/self/limits). */
export function virtualMemoryLimitBytes(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max address space'));
    const soft = line?.slice('Max address space'.length).trim().split(/\s+/)[0];
    return soft && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}

const WASM_MEMORY = /(Cannot allocate Wasm memory|WebAssembly\.(Memory|instantiate)\(\).*(Out of memory|could not allocate))/i;

function wasmMessage(): string {
  const limit = virtualMemoryLimitBytes();
  return (
    'WebAssembly (the FFT and HDF5 libraries) could not reserve its address space' +
    (limit !== undefined ? `: this process may use only ${formatBytes(limit)} of virtual memory (ulimit -v)` : '') +
    '. WebAssembly reserves ~10 GiB of address space per instance (not memory actually used); ' +
    'run with NODE_OPTIONS=--disable-wasm-trap-handler (Node ≥ 20.15), or raise the limit (ulimit -v unlimited)'
  );
}

/** Is this error (or one it wraps) a refused WebAssembly memory reservation? */
export function isWasmMemoryError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const text = e instanceof Error ? e.message : String(e);
    if (WASM_MEMORY.test(text)) return true;
  }
  return false;
}

/** HDF5's error stack (h5wasm) as one line: the file and the system's reason, or the innermost entry. */
function hdf5Message(text: string): string | undefined {
  if (!text.includes('HDF5-DIAG')) return undefined;
  const file = /filename = '([^']+)'/.exec(text)?.[1];
  const reason = /error message = '([^']+)'/.exec(text)?.[1];
  const shown = file ? file.replace(TEMPORARY_NAME, '$1$2') : undefined;
  if (reason && /no space left/i.test(reason)) return `${shown ?? 'an HDF5 file'}: ${FS_MESSAGES.ENOSPC} (while writing it)`;
  if (reason) return `${shown ?? 'an HDF5 file'}: ${reason.toLowerCase()}`;
  const entries = [...text.matchAll(/#\d+: .*? in (\w+\(\)): (.*)/g)];
  const last = entries[entries.length - 1];
  return `HDF5 error${shown ? ` on ${shown}` : ''}: ${last ? `${last[2]} (${last[1]})` : text.split('\n')[0]}`;
}

/**
 * A core message as the user wrote its parameters (core/messageParams.ts): the recipe's names in
 * `ccdrift run`, the flags elsewhere (recipes/parameterNames.ts).
 */
export function renderCoreMessage(message: string, command: string | undefined): string {
  return renderParamsFor(message, command === 'run' ? 'recipe' : 'flag');
}

/** The message and exit code for any error that reaches the top of the CLI (`command`: the subcommand run). */
export function describeError(err: unknown, { command }: { command?: string } = {}): { message: string; exitCode: number } {
  // A recipe item's failure: the module's error, rendered as any other, after the item.
  if (err instanceof RecipeStepError) {
    const inner = describeError(err.cause, { command });
    return { message: `${err.where}: ${inner.message}`, exitCode: inner.exitCode };
  }
  if (isWasmMemoryError(err)) return { message: wasmMessage(), exitCode: 1 };
  if (!(err instanceof Error)) return { message: String(err), exitCode: 1 };
  // An HDF5 failure the system explains (a full disk), possibly wrapped in an InputError.
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (/HDF5-DIAG[\s\S]*error message = '/.test(e.message)) return { message: hdf5Message(e.message)!, exitCode: 1 };
  }
  if (err instanceof UsageError) return { message: renderCoreMessage(err.message, command), exitCode: 2 };
  if (err instanceof MemoryLimitError) return { message: renderCoreMessage(err.message, command), exitCode: 1 };
  if (err instanceof InputError || err instanceof InsufficientDataError) return { message: renderCoreMessage(err.message, command), exitCode: 1 };
  const hdf5 = hdf5Message(err.message);
  if (hdf5) return { message: hdf5, exitCode: 1 };
  const fs = fsMessage(err);
  if (fs) return { message: fs, exitCode: 1 };
  if (err instanceof RangeError && /Invalid (typed )?array (buffer )?length|Array buffer allocation failed/i.test(err.message)) {
    return {
      message: `out of memory: an array larger than this machine can hold was asked for (${err.message}); this is a bug in ccdrift's checks — please report it with the command`,
      exitCode: 1,
    };
  }
  return { message: renderCoreMessage(err.message, command), exitCode: 1 };
}
