/**
 * Read a 1-D compound dataset (a PyTables table) straight from its chunks: the compressed
 * chunks are read from the file and inflated several at a time on Node's thread pool (the
 * browser build inflates with fflate, in its worker), then un-shuffled and split into columns
 * in one pass per field. h5wasm decompresses one chunk at a time in WebAssembly; for a 5 M-row
 * PYME table this reader takes a fraction of its time on two cores.
 *
 * Only what PYME and PyTables write is read here — contiguous data, or chunks filtered by
 * nothing, shuffle and/or deflate — and only when every row is covered by a stored chunk.
 * Anything else returns `null` with the reason, and the caller reads the table with h5wasm.
 */
import { open } from 'node:fs/promises';
import { inflate } from 'node:zlib';
import type { NumericArray } from '../../core/types.js';
import { allocateColumn, dtypeSize, extractField, type CompoundLeaf } from './compoundTable.js';
import { locateDatasetStorage, StorageUnsupported, type DatasetStorage, type StoredChunk } from './datasetStorage.js';

/** HDF5 filter identifiers (H5Zpublic.h). */
const FILTER = { deflate: 1, shuffle: 2 } as const;

/** Chunks read and inflating at a time (libuv's pool has 4 threads; a few more keep it fed). */
const IN_FLIGHT = 8;

/** Columns are written as little-endian bit patterns: on a big-endian host, h5wasm reads. */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Contiguous data is read in blocks of about this many bytes. */
const CONTIGUOUS_BLOCK = 8 << 20;

/** Why the fast route was not taken (for --debug and tests), or null when it was. */
export type FastReadOutcome = { columns: NumericArray[]; reason: null } | { columns: null; reason: string };

/**
 * Read the fields `leaves` of the table `datasetPath` in `path` (rows of `rowBytes` bytes,
 * `nRows` rows as h5wasm reported) into new columns. `columns` is null, with the reason, when
 * the file's storage is outside what this reader handles.
 */
export async function readTableFromChunks(
  path: string,
  datasetPath: string,
  leaves: CompoundLeaf[],
  rowBytes: number,
  nRows: number,
  onRows?: (done: number) => void,
): Promise<FastReadOutcome> {
  if (!LITTLE_ENDIAN_HOST) return { columns: null, reason: 'a big-endian machine' };
  const handle = await open(path, 'r');
  try {
    let storage: DatasetStorage;
    try {
      storage = await locateDatasetStorage(handle, datasetPath);
    } catch (err) {
      if (err instanceof StorageUnsupported) return { columns: null, reason: err.message };
      throw err;
    }
    // Whether this reader can read the table is settled before any column is allocated.
    const allocate = () => leaves.map((leaf) => allocateColumn(leaf.dtype, nRows));
    if (nRows === 0) return { columns: allocate(), reason: null };
    if (storage.layout === 'contiguous') {
      if (storage.address === null || storage.size < nRows * rowBytes) return { columns: null, reason: 'contiguous data shorter than the table' };
      const columns = allocate();
      await readContiguous(handle, storage.address, leaves, rowBytes, nRows, columns, onRows);
      return { columns, reason: null };
    }
    const plan = chunkPlan(storage, rowBytes, nRows);
    if (typeof plan === 'string') return { columns: null, reason: plan };
    const columns = allocate();
    await readChunks(handle, plan, leaves, rowBytes, nRows, columns, onRows);
    return { columns, reason: null };
  } finally {
    await handle.close();
  }
}

interface ChunkPlan {
  chunkRows: number;
  chunks: StoredChunk[];
  deflate: number;
  shuffle: number;
}

/** The chunks in file order, and which filter is where in the pipeline; a string when unsupported. */
function chunkPlan(storage: Extract<DatasetStorage, { layout: 'chunked' }>, rowBytes: number, nRows: number): ChunkPlan | string {
  if (storage.chunkDims.length !== 1) return `a ${storage.chunkDims.length}-D chunked dataset`;
  if (storage.elementSize !== rowBytes) return `chunk element size ${storage.elementSize}, row size ${rowBytes}`;
  const unknown = storage.filters.find((f) => f.id !== FILTER.deflate && f.id !== FILTER.shuffle);
  if (unknown) return `HDF5 filter ${unknown.id} (only shuffle and deflate are read directly)`;
  const deflate = storage.filters.findIndex((f) => f.id === FILTER.deflate);
  const shuffle = storage.filters.findIndex((f) => f.id === FILTER.shuffle);
  if (shuffle >= 0 && deflate >= 0 && shuffle > deflate) return 'deflate before shuffle';
  if (shuffle >= 0 && storage.filters[shuffle].clientData[0] !== undefined && storage.filters[shuffle].clientData[0] !== rowBytes)
    return 'shuffle by an element size other than the row';
  const chunkRows = storage.chunkDims[0];
  if (!(chunkRows > 0)) return 'chunks of zero rows';
  // Every row must come from a stored chunk (a missing chunk would read as the fill value).
  const chunks = storage.chunks.filter((c) => c.offset[0] < nRows).sort((a, b) => a.offset[0] - b.offset[0]);
  let covered = 0;
  for (const c of chunks) {
    if (c.offset[0] !== covered || c.offset[0] % chunkRows !== 0) return `chunk at row ${c.offset[0]} (expected ${covered})`;
    covered += chunkRows;
  }
  if (covered < nRows) return `rows from ${covered} have no stored chunk`;
  return { chunkRows, chunks: chunks.sort((a, b) => a.address - b.address), deflate, shuffle };
}

async function readContiguous(
  handle: Awaited<ReturnType<typeof open>>,
  address: number,
  leaves: CompoundLeaf[],
  rowBytes: number,
  nRows: number,
  columns: NumericArray[],
  onRows?: (done: number) => void,
): Promise<void> {
  const block = Math.max(1, Math.floor(CONTIGUOUS_BLOCK / rowBytes));
  const buf = new Uint8Array(Math.min(block, nRows) * rowBytes);
  for (let start = 0; start < nRows; start += block) {
    const count = Math.min(block, nRows - start);
    const { bytesRead } = await handle.read(buf, 0, count * rowBytes, address + start * rowBytes);
    if (bytesRead !== count * rowBytes) throw new Error(`short read of rows ${start}–${start + count}`);
    for (let c = 0; c < leaves.length; c++) extractField(buf.buffer, buf.byteOffset, rowBytes, leaves[c], columns[c], start, count);
    onRows?.(start + count);
  }
}

function inflateAsync(data: Uint8Array, expected: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    inflate(data, { chunkSize: Math.max(64 << 10, expected + 64) }, (err, out) =>
      err ? reject(err) : resolve(new Uint8Array(out.buffer, out.byteOffset, out.length)),
    );
  });
}

async function readChunks(
  handle: Awaited<ReturnType<typeof open>>,
  plan: ChunkPlan,
  leaves: CompoundLeaf[],
  rowBytes: number,
  nRows: number,
  columns: NumericArray[],
  onRows?: (done: number) => void,
): Promise<void> {
  const chunkBytes = plan.chunkRows * rowBytes;
  const load = async (chunk: StoredChunk): Promise<Uint8Array> => {
    const raw = new Uint8Array(chunk.size);
    const { bytesRead } = await handle.read(raw, 0, chunk.size, chunk.address);
    if (bytesRead !== chunk.size) throw new Error(`chunk at row ${chunk.offset[0]}: short read`);
    const deflated = plan.deflate >= 0 && !(chunk.filterMask & (1 << plan.deflate));
    const data = deflated ? await inflateAsync(raw, chunkBytes) : raw;
    if (data.length !== chunkBytes) throw new Error(`chunk at row ${chunk.offset[0]}: ${data.length} bytes after decompression, expected ${chunkBytes}`);
    return data;
  };
  // Keep IN_FLIGHT chunks reading and inflating; decode each on this thread as it arrives.
  const queue = plan.chunks.slice();
  let done = 0;
  const worker = async () => {
    for (let chunk = queue.shift(); chunk; chunk = queue.shift()) {
      const data = await load(chunk);
      const start = chunk.offset[0];
      const count = Math.min(plan.chunkRows, nRows - start);
      const shuffled = plan.shuffle >= 0 && !(chunk.filterMask & (1 << plan.shuffle));
      for (let c = 0; c < leaves.length; c++) {
        if (shuffled) unshuffleField(data, plan.chunkRows, leaves[c], columns[c], start, count);
        else extractField(data.buffer as ArrayBuffer, data.byteOffset, rowBytes, leaves[c], columns[c], start, count);
      }
      done += count;
      onRows?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, plan.chunks.length) }, worker));
}

/**
 * One field out of a shuffled chunk (HDF5's shuffle filter over whole rows: byte k of row i
 * is at k·n + i, n = rows per chunk), straight into its column. Each element size has its own
 * small loop (one shape of arguments each, which V8 optimises well).
 */
function unshuffleField(data: Uint8Array, n: number, leaf: CompoundLeaf, out: NumericArray, start: number, count: number): void {
  const size = dtypeSize(leaf.dtype);
  const planes: number[] = [];
  for (let k = 0; k < size; k++) planes.push((leaf.offset + k) * n);
  // Bytes from least to most significant.
  if (!leaf.littleEndian) planes.reverse();
  if (size === 1) {
    if (leaf.dtype === 'i1') gather1Signed(data, planes[0], out as Int8Array, start, count);
    else gather1(data, planes[0], out as Uint8Array, start, count);
  } else if (size === 2) {
    gather2(data, planes[0], planes[1], new Uint16Array(out.buffer, out.byteOffset, out.length), start, count);
  } else if (size === 4) {
    // The 32-bit pattern, through an Int32Array view of a float32 or 32-bit integer column.
    gather4(data, planes, new Int32Array(out.buffer, out.byteOffset, out.length), start, count);
  } else if (leaf.dtype === 'f8') {
    const bits = new Int32Array(out.buffer, out.byteOffset, out.length * 2);
    gather8(data, planes, bits, start, count);
  } else {
    // 64-bit integers into float64 values, exact below 2^53 (as extractField).
    const lo = new Int32Array(count);
    const hi = new Int32Array(count);
    gather4(data, planes.slice(0, 4), lo, 0, count);
    gather4(data, planes.slice(4), hi, 0, count);
    const signed = leaf.dtype === 'i8';
    for (let i = 0; i < count; i++) out[start + i] = (signed ? hi[i] : hi[i] >>> 0) * 4294967296 + (lo[i] >>> 0);
  }
}

function gather1(d: Uint8Array, p0: number, out: Uint8Array, start: number, count: number): void {
  out.set(d.subarray(p0, p0 + count), start);
}

function gather1Signed(d: Uint8Array, p0: number, out: Int8Array, start: number, count: number): void {
  out.set(new Int8Array(d.buffer, d.byteOffset + p0, count), start);
}

function gather2(d: Uint8Array, p0: number, p1: number, out: Uint16Array, start: number, count: number): void {
  for (let i = 0; i < count; i++) out[start + i] = d[p0 + i] | (d[p1 + i] << 8);
}

/** Four byte planes into 32-bit values; four rows per step through 32-bit reads when the planes are aligned. */
function gather4(d: Uint8Array, planes: number[], out: Int32Array, start: number, count: number): void {
  const [p0, p1, p2, p3] = planes;
  let i = 0;
  if ((d.byteOffset + p0) % 4 === 0 && (p1 - p0) % 4 === 0 && (p2 - p0) % 4 === 0 && (p3 - p0) % 4 === 0) {
    const w = new Int32Array(d.buffer, d.byteOffset, d.length >> 2);
    i = gather4Words(w, p0 >> 2, p1 >> 2, p2 >> 2, p3 >> 2, out, start, count >> 2) * 4;
  }
  for (; i < count; i++) out[start + i] = d[p0 + i] | (d[p1 + i] << 8) | (d[p2 + i] << 16) | (d[p3 + i] << 24);
}

/** A 4 × 4 byte transpose per step: four rows of one field from one 32-bit word of each plane. */
function gather4Words(w: Int32Array, q0: number, q1: number, q2: number, q3: number, out: Int32Array, start: number, steps: number): number {
  for (let k = 0, j = start; k < steps; k++, j += 4) {
    const a = w[q0 + k];
    const b = w[q1 + k];
    const c = w[q2 + k];
    const e = w[q3 + k];
    out[j] = (a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | (e << 24);
    out[j + 1] = ((a >>> 8) & 0xff) | (b & 0xff00) | ((c & 0xff00) << 8) | ((e >>> 8) << 24);
    out[j + 2] = ((a >>> 16) & 0xff) | ((b >>> 8) & 0xff00) | (c & 0xff0000) | ((e >>> 16) << 24);
    out[j + 3] = (a >>> 24) | ((b >>> 16) & 0xff00) | ((c >>> 8) & 0xff0000) | ((e >>> 24) << 24);
  }
  return steps;
}

/** Eight byte planes into float64 bit patterns (low word first). */
function gather8(d: Uint8Array, planes: number[], bits: Int32Array, start: number, count: number): void {
  const lo = new Int32Array(count);
  const hi = new Int32Array(count);
  gather4(d, planes.slice(0, 4), lo, 0, count);
  gather4(d, planes.slice(4), hi, 0, count);
  for (let i = 0, j = 2 * start; i < count; i++, j += 2) {
    bits[j] = lo[i];
    bits[j + 1] = hi[i];
  }
}
