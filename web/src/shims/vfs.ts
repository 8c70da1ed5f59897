/**
 * The file system the `src/io` readers and writers see in the browser: h5wasm's Emscripten FS
 * (the same one HDF5 files are opened from), so one path reaches every reader. The worker
 * mounts the picked files read-only (WORKERFS: reads are File.slice blocks, the file is never
 * copied whole) and writes outputs to an in-memory directory. Set once by the worker
 * (`setVfs`) before any reader runs.
 */

/** The subset of Emscripten's FS API used here. */
export interface EmscriptenFs {
  open(path: string, flags: string): EmscriptenStream;
  close(stream: EmscriptenStream): void;
  read(stream: EmscriptenStream, buffer: Uint8Array, offset: number, length: number, position?: number): number;
  write(stream: EmscriptenStream, buffer: Uint8Array, offset: number, length: number, position?: number): number;
  stat(path: string): { size: number; mode: number };
  isDir(mode: number): boolean;
  readFile(path: string, opts?: { encoding?: 'utf8' | 'binary' }): Uint8Array | string;
  writeFile(path: string, data: string | Uint8Array): void;
  rename(from: string, to: string): void;
  symlink(target: string, path: string): void;
  unlink(path: string): void;
  rmdir(path: string): void;
  mkdir(path: string): void;
  mkdirTree(path: string): void;
  readdir(path: string): string[];
  analyzePath(path: string): { exists: boolean };
  /** A path's node; a MEMFS file's node holds its bytes (`contents`, the first `usedBytes` used). */
  lookupPath(path: string): { node: { contents?: unknown; usedBytes?: number } };
  mount(type: unknown, opts: unknown, mountpoint: string): unknown;
  unmount(mountpoint: string): void;
  chdir(path: string): void;
  cwd(): string;
  filesystems: { MEMFS: unknown; WORKERFS: unknown };
}
export type EmscriptenStream = { position: number };

let current: EmscriptenFs | undefined;

export function setVfs(fs: EmscriptenFs): void {
  current = fs;
}

export function vfs(): EmscriptenFs {
  if (!current) throw new Error('browser file system used before the worker set it up');
  return current;
}

/** Emscripten errno numbers → Node's error codes (the readers test `err.code`). */
const CODES: Record<number, string> = { 44: 'ENOENT', 31: 'EISDIR', 20: 'EEXIST', 54: 'ENOTDIR', 55: 'ENOTEMPTY', 2: 'EACCES', 63: 'EPERM' };

/** Run an FS call; its ErrnoError becomes an Error with Node's `code` and the path. */
export function fsCall<T>(what: string, path: string, body: () => T): T {
  try {
    return body();
  } catch (err) {
    const errno = (err as { errno?: number }).errno;
    if (errno === undefined) throw err;
    const code = CODES[errno] ?? `E${errno}`;
    const e = new Error(`${code}: ${what} '${path}'`) as Error & { code: string; path: string };
    e.code = code;
    e.path = path;
    throw e;
  }
}
