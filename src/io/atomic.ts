import { randomBytes } from 'node:crypto';
import { mkdirSync, promises as fs, rmSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** Temporary files still open by this process, removed on exit or Ctrl-C. */
const pendingTemps = new Set<string>();
let cleanupInstalled = false;

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const removeAll = () => {
    for (const p of pendingTemps) {
      try {
        rmSync(p, { force: true, recursive: true });
      } catch {
        /* best effort at exit */
      }
    }
    pendingTemps.clear();
  };
  process.once('exit', removeAll);
}

/** Register a temporary path (file or directory) for removal if the process ends early. */
export function trackTemporary(path: string): () => void {
  installCleanup();
  pendingTemps.add(path);
  return () => pendingTemps.delete(path);
}

/**
 * A temporary folder beside `target` (same file system, so the final rename is atomic), made
 * now, named with the process id; the output is written inside it under its own name. Removing
 * the folder on Ctrl-C also stops a file creation still in flight in the OS threads (an output
 * being opened) from leaving a file behind: it cannot be created in a folder that is gone.
 */
export function temporaryFolderFor(target: string): string {
  const folder = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  mkdirSync(folder);
  return folder;
}

/** Where the output `target` is written before it is moved into place: inside its temporary folder. */
export function temporaryPathFor(target: string, folder: string = temporaryFolderFor(target)): string {
  return join(folder, basename(target));
}

/**
 * Write one or more output files atomically: `write` receives a temporary path per target,
 * and only when it resolves are they renamed into place. On error every temporary file is
 * removed and no target is touched. Refuses to write over any of `inputs`.
 */
export async function writeAtomically<T>(targets: string[], write: (temporaryPaths: string[]) => Promise<T>, inputs: string[] = []): Promise<T> {
  const inputSet = new Set(inputs.map((p) => resolve(p)));
  for (const t of targets) {
    if (inputSet.has(resolve(t))) {
      throw new Error(`refusing to overwrite the input file ${t}: choose another output path`);
    }
  }
  const untrack: (() => void)[] = [];
  const folders: string[] = [];
  const temps: string[] = [];
  try {
    for (const target of targets) {
      const folder = temporaryFolderFor(target);
      folders.push(folder);
      untrack.push(trackTemporary(folder));
      temps.push(temporaryPathFor(target, folder));
    }
  } catch (err) {
    for (const f of folders) rmSync(f, { force: true, recursive: true });
    untrack.forEach((u) => u());
    throw err;
  }
  let staged = false;
  try {
    let result: T;
    try {
      result = await write(temps);
    } catch (err) {
      // A write failing for a reason of the file system (a full disk) names the output.
      const e = err as NodeJS.ErrnoException;
      if (e && typeof e === 'object' && e.code && !e.path) e.path = targets[0];
      throw err;
    }
    if (batch) {
      // Inside an output batch: committed with the others when the command ends.
      targets.forEach((target, i) => batch!.push({ temp: temps[i], folder: folders[i], target, untrack: untrack[i] }));
      staged = true;
    } else {
      for (let i = 0; i < targets.length; i++) await fs.rename(temps[i], targets[i]);
    }
    return result;
  } finally {
    if (!staged) {
      for (const p of folders) await fs.rm(p, { force: true, recursive: true });
      untrack.forEach((u) => u());
    }
  }
}

/** An output written to its temporary file, waiting for the batch to end. */
interface StagedOutput {
  temp: string;
  /** The temporary folder holding `temp`. */
  folder: string;
  target: string;
  untrack: () => void;
}

/** The open output batch (withOutputBatch), if any. */
let batch: StagedOutput[] | undefined;
/** What to do once the open batch's outputs are in place (the "wrote X" lines); dropped when it fails. */
let commitHooks: (() => void)[] | undefined;

/**
 * Run `fn` once the outputs written so far are in place: at the end of the open output batch
 * when it commits (never when it is discarded), else now. A line saying "wrote X" goes through
 * this, so nothing claims to have been written that a later failure discards.
 */
export function afterCommit(fn: () => void): void {
  if (commitHooks) commitHooks.push(fn);
  else fn();
}

/** Where a staged output's content is until the batch commits (for a step that reads it back), else undefined. */
export function stagedPathFor(target: string): string | undefined {
  const t = resolve(target);
  return batch?.find((s) => resolve(s.target) === t)?.temp;
}

/**
 * All or nothing (issue 12): every output that `body` writes (through writeAtomically) stays in
 * its temporary file until `body` resolves; then all are renamed into place together. When
 * `body` fails (or the process is interrupted) every temporary file is removed and no output
 * appears; `onDiscard` is told which outputs were discarded. Nested batches join the outer one,
 * unless `own`: then the body's outputs are committed (or discarded) when it ends, on their own —
 * one input of a batch of files is all or nothing, and a later failing input does not take the
 * results of the earlier ones with it.
 */
export async function withOutputBatch<T>(body: () => Promise<T>, onDiscard?: (targets: string[]) => void, { own = false } = {}): Promise<T> {
  if (batch && !own) return body();
  const outer = batch;
  const outerHooks = commitHooks;
  const staged: StagedOutput[] = [];
  const hooks: (() => void)[] = [];
  batch = staged;
  commitHooks = hooks;
  let result: T;
  try {
    result = await body();
  } catch (err) {
    batch = outer;
    commitHooks = outerHooks;
    for (const s of staged) {
      await fs.rm(s.folder, { force: true, recursive: true });
      s.untrack();
    }
    if (staged.length > 0) onDiscard?.(staged.map((s) => s.target));
    throw err;
  }
  batch = outer;
  commitHooks = outerHooks;
  // Renames within one folder: they do not fail for want of space. Should one fail anyway
  // (the folder removed meanwhile), the rest are removed and the error says what was written.
  for (let i = 0; i < staged.length; i++) {
    try {
      await fs.rename(staged[i].temp, staged[i].target);
      await fs.rm(staged[i].folder, { force: true, recursive: true });
      staged[i].untrack();
    } catch (err) {
      for (const s of staged.slice(i)) {
        await fs.rm(s.folder, { force: true, recursive: true });
        s.untrack();
      }
      const done = staged.slice(0, i).map((s) => s.target);
      throw new Error(
        `could not move ${staged[i].target} into place (${(err as Error).message}); ` +
          (done.length ? `already written: ${done.join(', ')}` : 'no output was written'),
        { cause: err },
      );
    }
  }
  for (const fn of hooks) fn();
  return result;
}

/** Temporary outputs (temporaryPathFor) and FFT caches carry the owning process id. */
const STALE_PATTERNS = [/^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/, /^ccdrift-fft-(\d+)-[0-9a-f]{8}\.cache$/];

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove ccdrift's temporary and cache files in `dirs` whose owning process is gone (killed
 * with SIGKILL, power loss): they are recognized by name and process id, so nothing else is
 * touched. Returns the paths removed.
 */
export async function removeStaleTemporaries(dirs: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of new Set(dirs.map((d) => resolve(d)))) {
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      for (const pattern of STALE_PATTERNS) {
        const m = pattern.exec(name);
        if (!m || processAlive(Number(m[1]))) continue;
        const path = join(dir, name);
        try {
          await fs.rm(path, { force: true, recursive: true });
          removed.push(path);
        } catch {
          /* not ours to remove after all (permissions): leave it */
        }
      }
    }
  }
  return removed;
}

/**
 * Write all of `data` at `position` (or the current position): FileHandle.write may write
 * less than asked (a disk filling up does that before it fails with ENOSPC) and says so only
 * in its result, so a single call can lose the end of a file silently.
 */
export async function writeFully(fh: FileHandle, data: string | Uint8Array, position?: number): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position === undefined ? null : position + done);
    if (bytesWritten <= 0) {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    }
    done += bytesWritten;
  }
}
