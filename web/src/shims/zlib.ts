/** `node:zlib` for the browser worker: the calls src/io makes (deflateChunk, the chunk reader's inflate), by fflate, in this thread. */
import { unzlibSync, zlibSync } from 'fflate';

type Level = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

export function deflate(data: Uint8Array, options: { level?: number; strategy?: number }, callback: (err: Error | null, out: Uint8Array) => void): void {
  let out: Uint8Array;
  try {
    out = zlibSync(data, { level: (options.level ?? 6) as Level });
  } catch (err) {
    queueMicrotask(() => callback(err as Error, new Uint8Array(0)));
    return;
  }
  queueMicrotask(() => callback(null, out));
}

export function inflate(data: Uint8Array, options: { chunkSize?: number }, callback: (err: Error | null, out: Uint8Array) => void): void {
  let out: Uint8Array;
  try {
    // The expected size (chunkSize) lets fflate write into one buffer of the right length.
    out = unzlibSync(data, options.chunkSize ? { out: new Uint8Array(options.chunkSize) } : undefined);
  } catch (err) {
    queueMicrotask(() => callback(err as Error, new Uint8Array(0)));
    return;
  }
  queueMicrotask(() => callback(null, out));
}

export default { deflate, inflate };
