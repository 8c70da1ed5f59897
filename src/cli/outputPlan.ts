/**
 * Plan, check, then work (issue 12): every command names all the files it will write before it
 * reads any data, and this refuses — with the flag, the path and what to do — any output that
 * is an input (the same file, by path or by inode through a link), two outputs that are the
 * same file, an output in a folder that is missing or not writable, an output that is a
 * folder, an unknown output extension (the caller's check), and a scratch file (the FFT cache)
 * at a path that already exists: the cache is created and removed by the run, so an existing
 * file there would be overwritten and then deleted.
 */
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { extensionOf, findImageFormat, findTableFormat } from '../io/index.js';
import { PLOT_EXTENSIONS } from '../io/plotFile.js';
import { removeStaleTemporaries } from '../io/atomic.js';

export interface PlannedFile {
  /** As the user gave it. */
  path: string;
  /** How the user asked for it: '-o', '--per-frame', 'Drift_Save save_path (item 3)'. */
  what: string;
  /** Further checks that need no data (extension known, pixel size given); throw a UsageError. */
  check?: () => void;
  /** The run creates the file's folder when missing (checked with checkFolderCanBeMade). */
  folderMadeByRun?: boolean;
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Same file: same resolved path, or (both existing) the same device and inode. */
function sameFile(a: string, b: string, sa: Stats | undefined, sb: Stats | undefined): boolean {
  if (resolve(a) === resolve(b)) return true;
  return !!sa && !!sb && sa.dev === sb.dev && sa.ino === sb.ino;
}

/**
 * Check a command's outputs against its inputs and each other before the work starts; see
 * the module comment. `scratch` files must not exist yet.
 */
export function checkOutputPlan(inputs: readonly string[], outputs: readonly PlannedFile[], scratch: readonly PlannedFile[] = []): void {
  const ins = inputs.map((p) => ({ path: p, stat: statOrUndefined(p) }));
  const seen: { file: PlannedFile; stat: Stats | undefined }[] = [];
  for (const file of [...outputs, ...scratch]) {
    const stat = statOrUndefined(file.path);
    for (const input of ins) {
      if (sameFile(file.path, input.path, stat, input.stat)) {
        throw new UsageError(`${file.what} ${file.path} is the input file ${input.path}: ccdrift never writes over an input; choose another path`);
      }
    }
    for (const prev of seen) {
      if (sameFile(file.path, prev.file.path, stat, prev.stat)) {
        throw new UsageError(
          `${file.what} ${file.path} and ${prev.file.what} ${prev.file.path} are the same file: one would replace the other; give them different paths`,
        );
      }
    }
    if (stat?.isDirectory()) throw new UsageError(`${file.what} ${file.path} is a folder; give a file name`);
    file.check?.();
    const dir = dirname(resolve(file.path));
    const dirStat = statOrUndefined(dir);
    if (!dirStat && file.folderMadeByRun) {
      seen.push({ file, stat });
      continue;
    }
    if (!dirStat) throw new UsageError(`${file.what} ${file.path}: the folder ${dir} does not exist; create it first`);
    if (!dirStat.isDirectory()) throw new UsageError(`${file.what} ${file.path}: ${dir} is not a folder`);
    try {
      accessSync(dir, constants.W_OK);
    } catch {
      throw new UsageError(`${file.what} ${file.path}: the folder ${dir} is not writable`);
    }
    seen.push({ file, stat });
  }
  for (const file of scratch) {
    if (statOrUndefined(file.path)) {
      throw new UsageError(
        `${file.what} ${file.path} already exists: the FFT cache is a scratch file the run creates and removes, so it would be overwritten and deleted; give a path that does not exist`,
      );
    }
  }
}

/**
 * A folder the run will create for its outputs (`-o DIR`, `--out-dir`): refused before the work
 * when it is a file, or when the nearest folder that exists above it is not writable.
 */
export function checkFolderCanBeMade(flag: string, folder: string): void {
  const abs = resolve(folder);
  const stat = statOrUndefined(abs);
  if (stat && !stat.isDirectory()) throw new UsageError(`${flag} ${folder} is a file, not a folder; give a folder for the outputs`);
  let existing = abs;
  while (!statOrUndefined(existing)) existing = dirname(existing);
  if (!statOrUndefined(existing)!.isDirectory()) throw new UsageError(`${flag} ${folder}: ${existing} is a file, so the folder cannot be made`);
  try {
    accessSync(existing, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${folder}: the folder ${existing} is not writable`);
  }
}

/** An optional output: a planned file when the path is given and not empty. */
export function optionalFile(path: string | undefined, what: string, check?: () => void): PlannedFile[] {
  return path ? [{ path, what, check }] : [];
}

/** Checks of what each kind of output accepts, for PlannedFile.check. */
export const accepts = {
  table: (path: string) => () => void findTableFormat(path, 'write'),
  image: (path: string) => () => void findImageFormat(path, 'write'),
  plot: (path: string) => () => {
    const ext = extensionOf(path);
    if (!(PLOT_EXTENSIONS as readonly string[]).includes(ext)) {
      throw new UsageError(`${path}: cannot write a plot with extension '${ext || '(none)'}'; accepted: ${PLOT_EXTENSIONS.join(', ')} (choose e.g. drift.png)`);
    }
  },
  report: (path: string) => () => {
    const ext = extensionOf(path);
    if (ext !== '.html' && ext !== '.htm') throw new UsageError(`--report ${path}: the report is an HTML file (.html); got '${ext || '(none)'}'`);
  },
  tiff: (flag: string, path: string) => () => {
    const ext = extensionOf(path);
    if (ext !== '.tif' && ext !== '.tiff') throw new UsageError(`${flag} ${path}: the correlation stack is written as TIFF (.tif); got '${ext || '(none)'}'`);
  },
  /** `pixelSizeLater`: the pixel size a Picasso .txt needs comes from the input's own metadata (checked when written). */
  perFrame:
    (path: string, pixelSizeNm: number | undefined, pixelSizeLater = false) =>
    () => {
      const ext = extensionOf(path);
      if (ext === '.txt' && !pixelSizeNm && !pixelSizeLater) throw new UsageError(`${path}: Picasso drift files are in camera pixels; give --pixel-size <nm>`);
      if (!['.csv', '.txt', '.json', '.npz'].includes(ext)) {
        throw new UsageError(
          `${path}: per-frame drift is written as .csv (t,x,y,z in nm), .txt (Picasso), .json (ThunderSTORM) or .npz; got '${ext || '(none)'}'`,
        );
      }
    },
};

/**
 * checkOutputPlan, then remove what dead ccdrift processes left in the output folders and the
 * temporary folder (removeStaleTemporaries), saying what was removed through `report`.
 */
export async function planOutputs(
  inputs: readonly string[],
  outputs: readonly PlannedFile[],
  scratch: readonly PlannedFile[],
  report: (message: string) => void,
): Promise<void> {
  checkOutputPlan(inputs, outputs, scratch);
  const removed = await removeStaleTemporaries([tmpdir(), ...[...outputs, ...scratch].map((f) => dirname(resolve(f.path)))]);
  for (const path of removed) report(`removed ${path}, left behind by a ccdrift run that no longer exists`);
}
