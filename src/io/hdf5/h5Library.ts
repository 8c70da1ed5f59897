/**
 * The one place that loads h5wasm (with the compression plugins PyTables files use: blosc,
 * lz4, zstd, bitshuffle) and turns HDF5's error stack into `InputError`s that say which file
 * and what was wrong.
 */
import { existsSync } from 'node:fs';
import type h5wasmLibrary from 'h5wasm/node';
import { InputError } from '../../core/errors.js';

export type H5Module = Awaited<typeof h5wasmLibrary.ready>;
export type H5File = InstanceType<typeof h5wasmLibrary.File>;

/** HDF5's "unlimited" extent (H5S_UNLIMITED), for resizable datasets. */
export const H5S_UNLIMITED = 0xffffffffffffffffn;

/** HDF5 type classes as h5wasm's metadata reports them. */
export const H5T = {
  INTEGER: 0,
  FLOAT: 1,
  STRING: 3,
  BITFIELD: 4,
  COMPOUND: 6,
  ENUM: 8,
  ARRAY: 10,
} as const;

let loaded: Promise<H5Module> | undefined;

/** h5wasm itself, once loadH5 has resolved. */
let h5wasm: typeof h5wasmLibrary;

/**
 * The initialised h5wasm module (loaded once per process, and only when an HDF5 file is
 * opened: its WebAssembly instance is not made for commands that never read one).
 */
export function loadH5(): Promise<H5Module> {
  loaded ??= Promise.all([import('h5wasm/node'), import('h5wasm-plugins')]).then(async ([library, plugins]) => {
    h5wasm = library.default;
    const module = await h5wasm.ready;
    plugins.install_local_plugins(module);
    // HDF5 errors become JS exceptions carrying the error stack instead of text on stderr.
    module.activate_throwing_error_handler();
    return module;
  });
  return loaded;
}

/** The most specific lines of an HDF5 error stack, e.g. "truncated file: eof = 3000 …". */
export function hdf5Reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const lines = text.split('\n').map((l) => l.trim());
  const details = lines.filter((l) => /^#\d+:/.test(l)).map((l) => l.replace(/^#\d+:.*?\(\):\s*/, ''));
  const minor = lines.filter((l) => l.startsWith('minor:')).map((l) => l.slice(6).trim());
  if (details.length > 0) return `${details[details.length - 1]}${minor.length ? ` (${minor[minor.length - 1]})` : ''}`;
  return text.split('\n')[0];
}

/** Open an HDF5 file for reading; a missing, truncated or non-HDF5 file is an InputError. */
export async function openForReading(path: string): Promise<{ module: H5Module; file: H5File }> {
  const module = await loadH5();
  if (!existsSync(path)) {
    const err = new Error(`${path}: no such file`) as NodeJS.ErrnoException;
    err.code = 'ENOENT';
    throw err;
  }
  try {
    return { module, file: new h5wasm.File(path, 'r') };
  } catch (err) {
    throw new InputError(`${path}: cannot open as HDF5 — ${hdf5Reason(err)}; is the file complete and really HDF5?`, {
      cause: err,
    });
  }
}

/** Create (truncate) an HDF5 file for writing. */
export async function openForWriting(path: string): Promise<{ module: H5Module; file: H5File }> {
  const module = await loadH5();
  return { module, file: new h5wasm.File(path, 'w') };
}

/** Run `body` on an open file and close it afterwards; HDF5 errors become InputErrors naming `path`. */
export async function withFile<T>(
  opened: { module: H5Module; file: H5File },
  path: string,
  body: (module: H5Module, file: H5File) => T | Promise<T>,
): Promise<T> {
  try {
    return await body(opened.module, opened.file);
  } catch (err) {
    if (err instanceof Error && err.name === 'MemoryLimitError' && !err.message.includes(path)) err.message = `${path}: ${err.message}`;
    if (err instanceof Error && err.name !== 'Error') throw err;
    throw new InputError(`${path}: HDF5 error — ${hdf5Reason(err)}; the file may be corrupt or incomplete`, { cause: err });
  } finally {
    try {
      opened.file.close();
    } catch {
      /* closing a file whose open failed half-way */
    }
  }
}

/** Allocate `bytes` on the wasm heap; the caller must free it. */
export function mallocChecked(module: H5Module, bytes: number): number {
  const ptr = module._malloc(Math.max(1, bytes));
  if (ptr === 0) throw new Error(`HDF5 layer: could not allocate ${bytes} bytes on the wasm heap (capped at 2 GiB)`);
  return ptr;
}
