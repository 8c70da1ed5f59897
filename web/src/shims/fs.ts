/** `node:fs` for the browser worker: the few synchronous calls `src/io` makes, and `promises`. */
import * as fsPromises from './fsPromises.js';
import { vfs } from './vfs.js';

export const promises = fsPromises;

export function existsSync(path: string): boolean {
  return vfs().analyzePath(path).exists;
}

export function readFileSync(path: string, options?: string | { encoding?: string }): string | Uint8Array {
  const encoding = typeof options === 'string' ? options : options?.encoding;
  if (!vfs().analyzePath(path).exists) {
    throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT', path });
  }
  return encoding ? (vfs().readFile(path, { encoding: 'utf8' }) as string) : (vfs().readFile(path) as Uint8Array);
}

export function rmSync(path: string, options: { force?: boolean; recursive?: boolean } = {}): void {
  fsPromises.removeSync(path, options);
}

/** The temporary folder an output is staged in (src/io/atomic.ts). */
export function mkdirSync(path: string, options: { recursive?: boolean } = {}): void {
  fsPromises.mkdirSync(path, options);
}

export default { promises, existsSync, readFileSync, rmSync, mkdirSync };
