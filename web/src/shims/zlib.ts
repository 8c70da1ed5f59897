/** `node:zlib` for the browser worker: the one call src/io makes (deflateChunk), by fflate, in this thread. */
import { zlibSync } from 'fflate';

type Level = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

export function deflate(data: Uint8Array, options: { level?: number }, callback: (err: Error | null, out: Uint8Array) => void): void {
  let out: Uint8Array;
  try {
    out = zlibSync(data, { level: (options.level ?? 6) as Level });
  } catch (err) {
    queueMicrotask(() => callback(err as Error, new Uint8Array(0)));
    return;
  }
  queueMicrotask(() => callback(null, out));
}

export default { deflate };
