/** `node:fs` for the browser worker: the few synchronous calls `src/io` makes, and `promises`. */
import * as fsPromises from './fsPromises.js';
import { vfs } from './vfs.js';

export const promises = fsPromises;

export function existsSync(path: string): boolean {
  return vfs().analyzePath(path).exists;
}

export function rmSync(path: string, options: { force?: boolean; recursive?: boolean } = {}): void {
  fsPromises.removeSync(path, options);
}

export default { promises, existsSync, rmSync };
