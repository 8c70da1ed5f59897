/**
 * zlib (the zlib-wrapped deflate HDF5's deflate filter stores) of one chunk, off the main
 * thread: node:zlib's asynchronous deflate runs on libuv's thread pool, so several chunks
 * compress at once. The browser build replaces node:zlib with fflate (web/src/shims/zlib.ts).
 */
import { deflate } from 'node:zlib';

/**
 * Chunks compressed at a time: libuv's default thread pool has 4 threads, and 4 chunks of
 * about 0.5 MiB in flight keep every core of a small machine busy while the main thread
 * prepares the next ones.
 */
export const DEFLATE_IN_FLIGHT = 4;

export function deflateChunk(data: Uint8Array, level: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    deflate(data, { level }, (err, out) => (err ? reject(err) : resolve(new Uint8Array(out.buffer, out.byteOffset, out.length))));
  });
}
