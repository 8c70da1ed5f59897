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

/**
 * zlib's Z_RLE strategy: matches only at distance 1 (runs of a byte). A shuffled table's byte
 * planes are mostly runs (signs, exponents, high bytes, small integers) or noise (low mantissa
 * bytes), and on those Z_RLE compresses as well as the default strategy in about a third of the
 * time (5 M simulated rows: 122.3 MiB in 1.1 s against 122.6 MiB in 3.3–3.5 s at levels 1–3).
 * Tables with repeated multi-byte patterns (real PYME fit results) compress better with the
 * default strategy (the real .h5r: 5 % smaller): `adaptiveDeflate` chooses per table.
 * Any inflater reads either stream: both are ordinary deflate.
 */
export const Z_RLE = 3;
const Z_DEFAULT_STRATEGY = 0;

/**
 * Z_RLE is kept unless the default strategy's stream is smaller by more than this fraction: it
 * costs 2–3 times the CPU (simulated tables: 0.8 % smaller at level 4; real fit results: 5 %).
 */
export const RLE_MARGIN = 0.02;

/**
 * A deflate for one table's chunks: the first chunk is compressed with both strategies, and the
 * table keeps Z_RLE unless the default strategy came out more than RLE_MARGIN smaller (the
 * first chunk keeps its smaller stream either way). Later chunks wait for that choice.
 */
export function adaptiveDeflate(): (data: Uint8Array, level: number) => Promise<Uint8Array> {
  let chosen: Promise<number> | undefined;
  return (data, level) => {
    if (chosen) return chosen.then((strategy) => deflateChunk(data, level, strategy));
    const both = Promise.all([deflateChunk(data, level, Z_RLE), deflateChunk(data, level, Z_DEFAULT_STRATEGY)]);
    chosen = both.then(([rle, dflt]) => (dflt.length >= rle.length * (1 - RLE_MARGIN) ? Z_RLE : Z_DEFAULT_STRATEGY));
    return both.then(([rle, dflt]) => (rle.length <= dflt.length ? rle : dflt));
  };
}

export function deflateChunk(data: Uint8Array, level: number, strategy = 0): Promise<Uint8Array> {
  // An output buffer the size of the input (plus zlib's worst-case overhead) lets the thread
  // pool compress the whole chunk in one go; the default (16 KiB) returns to this thread for
  // every 16 KiB of output.
  const chunkSize = Math.max(64 << 10, data.length + (data.length >> 8) + 64);
  return new Promise((resolve, reject) => {
    deflate(data, { level, strategy, chunkSize }, (err, out) => (err ? reject(err) : resolve(new Uint8Array(out.buffer, out.byteOffset, out.length))));
  });
}
