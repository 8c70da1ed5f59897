/**
 * Block-wise reading and writing of HDF5 compound ("table") datasets as typed-array columns.
 *
 * h5wasm's `.value` builds one JS array per row (~7 s per million rows). Here a block of rows
 * is read as the raw bytes of the compound type into one wasm-heap buffer and de-interleaved
 * field by field with strided typed-array views (~0.1–0.4 s per million rows). Blocks are a
 * whole number of chunks, so every compressed chunk is decoded once, and no single read or
 * write holds more than one block on the 2 GiB-capped wasm heap.
 */
import { checkAllocation } from '../../core/memoryLimit.js';
import type { ColumnDtype, NumericArray } from '../../core/types.js';
import { H5S_UNLIMITED, H5T, mallocChecked, type H5Module } from './h5Library.js';

/** Bytes of rows moved through the wasm heap per read or write call. */
const BLOCK_BYTES = 8 << 20;

/** HDF5 element kinds a column can have, as numpy spells them (the table's storage dtypes). */
export type { ColumnDtype };

/** One scalar field of a (possibly nested) compound type. */
export interface CompoundLeaf {
  /** Member names from the outermost compound inwards, e.g. ['fitResults', 'x0']. */
  path: string[];
  /** Byte offset within one row. */
  offset: number;
  dtype: ColumnDtype;
  /**
   * Byte order in the file. HDF5 converts big-endian scalars on read, but not the members of
   * a compound type (whose own order is "none"), so those are swapped here.
   */
  littleEndian: boolean;
}

export function dtypeSize(dtype: ColumnDtype): number {
  return Number(dtype.slice(1));
}

export function allocateColumn(dtype: ColumnDtype, n: number): NumericArray {
  switch (dtype) {
    case 'i1':
      return new Int8Array(n);
    case 'u1':
      return new Uint8Array(n);
    case 'i2':
      return new Int16Array(n);
    case 'u2':
      return new Uint16Array(n);
    case 'i4':
      return new Int32Array(n);
    case 'u4':
      return new Uint32Array(n);
    case 'f4':
      return new Float32Array(n);
    default:
      // float64, and 64-bit integers (exact to 2^53; LocTable.dtypes records them as i8/u8).
      return new Float64Array(n);
  }
}

/** h5wasm metadata, as far as it is used here. */
export interface TypeMetadata {
  type: number;
  size: number;
  signed: boolean;
  littleEndian?: boolean;
  shape?: number[] | null;
  name?: string;
  offset?: number;
  compound_type?: { members: TypeMetadata[]; nmembers: number };
  array_type?: TypeMetadata;
  enum_type?: { type: number };
}

function scalarDtype(meta: TypeMetadata): ColumnDtype | null {
  if (meta.type === H5T.FLOAT && (meta.size === 4 || meta.size === 8)) return `f${meta.size}` as ColumnDtype;
  if (meta.type === H5T.INTEGER || meta.type === H5T.ENUM) {
    if (![1, 2, 4, 8].includes(meta.size)) return null;
    return `${meta.signed ? 'i' : 'u'}${meta.size}` as ColumnDtype;
  }
  return null;
}

/**
 * The scalar numeric fields of a compound type, nested compounds flattened depth first.
 * Fixed-size array members become one leaf per element (`name`, index). Strings and other
 * non-numeric members are listed in `skipped`.
 */
export function compoundLeaves(meta: TypeMetadata): { leaves: CompoundLeaf[]; skipped: string[]; skippedKinds: Map<string, string> } {
  const leaves: CompoundLeaf[] = [];
  const skipped: string[] = [];
  /** What each skipped field is, for messages: 'a string', 'an enum'. */
  const skippedKinds = new Map<string, string>();
  const visit = (m: TypeMetadata, path: string[], base: number) => {
    if (m.type === H5T.COMPOUND && m.compound_type) {
      for (const member of m.compound_type.members) visit(member, [...path, member.name!], base + (member.offset ?? 0));
      return;
    }
    if (m.type === H5T.ARRAY && m.array_type) {
      const elem = scalarDtype(m.array_type);
      const count = (m.shape ?? []).reduce((a, b) => a * b, 1);
      if (elem) {
        const littleEndian = m.array_type.littleEndian !== false;
        for (let i = 0; i < count; i++) {
          leaves.push({ path: [...path, String(i)], offset: base + i * m.array_type.size, dtype: elem, littleEndian });
        }
        return;
      }
    }
    const dtype = scalarDtype(m);
    if (dtype) leaves.push({ path, offset: base, dtype, littleEndian: m.littleEndian !== false || m.size === 1 });
    else {
      skipped.push(path.join('.'));
      skippedKinds.set(
        path.join('_'),
        m.type === H5T.STRING ? 'a string' : m.type === H5T.ENUM ? 'an enum' : m.type === H5T.BITFIELD ? 'a bitfield' : `of HDF5 type class ${m.type}`,
      );
    }
  };
  visit(meta, [], 0);
  return { leaves, skipped, skippedKinds };
}

/**
 * HDF5's byte order of a type, as H5Tget_order reports it: a compound's is its members' when
 * they agree (strings have none), else 'mixed'.
 */
function typeOrder(m: TypeMetadata): 'le' | 'be' | 'none' | 'mixed' {
  if (m.type === H5T.STRING) return 'none';
  if (m.type === H5T.ARRAY && m.array_type) return typeOrder(m.array_type);
  if (m.type !== H5T.COMPOUND || !m.compound_type) return m.littleEndian === false ? 'be' : 'le';
  let order: 'le' | 'be' | 'none' | 'mixed' = 'none';
  for (const member of m.compound_type.members) {
    const o = typeOrder(member);
    if (o === 'none') continue;
    if (order === 'none') order = o;
    else if (o !== order) return 'mixed';
  }
  return order;
}

/**
 * The leaves as h5wasm delivers the rows: it asks HDF5 for little-endian rows when the whole
 * compound is big-endian (every member), and HDF5 converts them; rows of mixed order come as
 * stored, and their big-endian members are swapped here.
 */
export function leavesAsDelivered(meta: TypeMetadata, leaves: CompoundLeaf[]): CompoundLeaf[] {
  return typeOrder(meta) === 'be' ? leaves.map((l) => ({ ...l, littleEndian: true })) : leaves;
}

/** Rows per block: about BLOCK_BYTES, rounded to whole chunks so each chunk is decoded once. */
function rowsPerBlock(rowBytes: number, chunkRows: number | null): number {
  let rows = Math.max(1, Math.floor(BLOCK_BYTES / rowBytes));
  if (chunkRows && chunkRows > 0) rows = Math.max(chunkRows, Math.floor(rows / chunkRows) * chunkRows);
  return rows;
}

/** Copy one field of `count` rows out of the interleaved heap buffer into `out` at `start`. */
export function extractField(heap: ArrayBuffer, ptr: number, rowBytes: number, leaf: CompoundLeaf, out: NumericArray, start: number, count: number): void {
  const size = dtypeSize(leaf.dtype);
  const at = ptr + leaf.offset;
  const le = leaf.littleEndian;
  if (size === 8 && leaf.dtype !== 'f8') {
    // 64-bit integers: combine the two 32-bit halves, exact below 2^53.
    const dv = new DataView(heap);
    const signed = leaf.dtype === 'i8';
    const [loAt, hiAt] = le ? [0, 4] : [4, 0];
    for (let i = 0; i < count; i++) {
      const p = at + i * rowBytes;
      const lo = dv.getUint32(p + loAt, le);
      const hi = signed ? dv.getInt32(p + hiAt, le) : dv.getUint32(p + hiAt, le);
      out[start + i] = hi * 4294967296 + lo;
    }
    return;
  }
  if (le && at % size === 0 && rowBytes % size === 0) {
    const Ctor = out.constructor as new (b: ArrayBuffer) => NumericArray;
    const view = new Ctor(heap);
    const stride = rowBytes / size;
    let src = at / size;
    for (let i = 0; i < count; i++, src += stride) out[start + i] = view[src];
    return;
  }
  const dv = new DataView(heap);
  const get = getter(dv, leaf.dtype, le);
  for (let i = 0; i < count; i++) out[start + i] = get(at + i * rowBytes);
}

function getter(dv: DataView, dtype: ColumnDtype, le: boolean): (p: number) => number {
  switch (dtype) {
    case 'i1':
      return (p) => dv.getInt8(p);
    case 'u1':
      return (p) => dv.getUint8(p);
    case 'i2':
      return (p) => dv.getInt16(p, le);
    case 'u2':
      return (p) => dv.getUint16(p, le);
    case 'i4':
      return (p) => dv.getInt32(p, le);
    case 'u4':
      return (p) => dv.getUint32(p, le);
    case 'f4':
      return (p) => dv.getFloat32(p, le);
    default:
      return (p) => dv.getFloat64(p, le);
  }
}

function block0(rowBytes: number, nRows: number, chunkRows: number | null): number {
  return Math.min(nRows, rowsPerBlock(rowBytes, chunkRows)) * rowBytes;
}

/** Read the numeric fields `leaves` of the 1-D compound dataset `datasetPath` into columns, in blocks of rows. */
export function readCompoundColumns(
  module: H5Module,
  fileId: bigint,
  datasetPath: string,
  leaves: CompoundLeaf[],
  rowBytes: number,
  nRows: number,
  chunkRows: number | null,
  onRows?: (done: number) => void,
): NumericArray[] {
  // The row count comes from the file (a chunked dataset may declare any length).
  checkAllocation(
    leaves.reduce((sum, leaf) => sum + (leaf.dtype === 'f8' || leaf.dtype === 'i8' || leaf.dtype === 'u8' ? 8 : 4), 0) * nRows +
      block0(rowBytes, nRows, chunkRows),
    `the table ${datasetPath} (${nRows} rows of ${leaves.length} columns, as the file declares)`,
    'is the file corrupt?',
  );
  const columns = leaves.map((leaf) => allocateColumn(leaf.dtype, nRows));
  if (nRows === 0) return columns;
  const block = Math.min(nRows, rowsPerBlock(rowBytes, chunkRows));
  const ptr = mallocChecked(module, block * rowBytes);
  try {
    for (let start = 0; start < nRows; start += block) {
      const count = Math.min(block, nRows - start);
      module.get_dataset_data(fileId, datasetPath, [BigInt(count)], [BigInt(start)], [1n], BigInt(ptr));
      // The heap may have grown (and been replaced) during the read: take the buffer afresh.
      const heap = module.HEAPU8.buffer as ArrayBuffer;
      for (let c = 0; c < leaves.length; c++) extractField(heap, ptr, rowBytes, leaves[c], columns[c], start, count);
      onRows?.(start + count);
    }
  } finally {
    module._free(ptr);
  }
  return columns;
}

/** A column to write: its name in the file, values, and file dtype. */
export interface OutputField {
  name: string;
  values: ArrayLike<number>;
  dtype: ColumnDtype;
}

/** h5wasm write metadata for a flat, packed compound type. */
export function compoundWriteMetadata(fields: OutputField[]): { meta: TypeMetadata; offsets: number[]; rowBytes: number } {
  let offset = 0;
  const offsets: number[] = [];
  const members = fields.map((f) => {
    const size = dtypeSize(f.dtype);
    offsets.push(offset);
    const m = {
      name: f.name,
      offset,
      type: f.dtype === 'f4' || f.dtype === 'f8' ? H5T.FLOAT : H5T.INTEGER,
      size,
      signed: f.dtype.startsWith('i') || f.dtype.startsWith('f'),
      vlen: false,
      littleEndian: true,
    };
    offset += size;
    return m;
  });
  const meta = { type: H5T.COMPOUND, size: offset, signed: false, vlen: false, littleEndian: true, compound_type: { members, nmembers: members.length } };
  return { meta, offsets, rowBytes: offset };
}

function putField(heap: ArrayBuffer, ptr: number, rowBytes: number, offset: number, field: OutputField, start: number, count: number): void {
  const values = field.values;
  const dv = new DataView(heap);
  const at = ptr + offset;
  switch (field.dtype) {
    case 'f4': {
      if (at % 4 === 0 && rowBytes % 4 === 0) {
        const view = new Float32Array(heap);
        const stride = rowBytes / 4;
        let dst = at / 4;
        for (let i = 0; i < count; i++, dst += stride) view[dst] = values[start + i];
      } else for (let i = 0; i < count; i++) dv.setFloat32(at + i * rowBytes, values[start + i], true);
      return;
    }
    case 'f8':
      for (let i = 0; i < count; i++) dv.setFloat64(at + i * rowBytes, values[start + i], true);
      return;
    case 'i8':
    case 'u8':
      for (let i = 0; i < count; i++) {
        const v = Math.trunc(values[start + i]);
        const hi = Math.floor(v / 4294967296);
        dv.setUint32(at + i * rowBytes, v - hi * 4294967296, true);
        dv.setInt32(at + i * rowBytes + 4, hi, true);
      }
      return;
    default: {
      const set = setter(dv, field.dtype);
      for (let i = 0; i < count; i++) set(at + i * rowBytes, values[start + i]);
    }
  }
}

function setter(dv: DataView, dtype: ColumnDtype): (p: number, v: number) => void {
  switch (dtype) {
    case 'i1':
      return (p, v) => dv.setInt8(p, v);
    case 'u1':
      return (p, v) => dv.setUint8(p, v);
    case 'i2':
      return (p, v) => dv.setInt16(p, v, true);
    case 'u2':
      return (p, v) => dv.setUint16(p, v, true);
    case 'i4':
      return (p, v) => dv.setInt32(p, v, true);
    default:
      return (p, v) => dv.setUint32(p, v, true);
  }
}

/**
 * Create the 1-D, chunked, resizable compound dataset `datasetPath` holding `fields` as its
 * members and write the rows in blocks. `deflateLevel` 0 means uncompressed.
 */
export function writeCompoundColumns(
  module: H5Module,
  fileId: bigint,
  datasetPath: string,
  fields: OutputField[],
  nRows: number,
  { chunkBytes = 256 << 10, deflateLevel = 0, onRows }: { chunkBytes?: number; deflateLevel?: number; onRows?: (done: number) => void } = {},
): { chunkRows: number } {
  const { meta, offsets, rowBytes } = compoundWriteMetadata(fields);
  const chunkRows = Math.max(1, Math.min(Math.floor(chunkBytes / rowBytes), Math.max(nRows, 1)));
  const empty = mallocChecked(module, rowBytes);
  try {
    module.create_dataset(fileId, datasetPath, BigInt(empty), {
      ...meta,
      shape: [0n],
      maxshape: [H5S_UNLIMITED],
      chunks: [BigInt(chunkRows)],
      compression: deflateLevel > 0 ? 1 : 0,
      compression_opts: deflateLevel > 0 ? [deflateLevel] : [],
      track_order: false,
    } as never);
  } finally {
    module._free(empty);
  }
  if (nRows === 0) return { chunkRows };
  module.resize_dataset(fileId, datasetPath, [BigInt(nRows)]);
  const block = Math.min(nRows, rowsPerBlock(rowBytes, chunkRows));
  const ptr = mallocChecked(module, block * rowBytes);
  try {
    for (let start = 0; start < nRows; start += block) {
      const count = Math.min(block, nRows - start);
      const heap = module.HEAPU8.buffer as ArrayBuffer;
      for (let f = 0; f < fields.length; f++) putField(heap, ptr, rowBytes, offsets[f], fields[f], start, count);
      module.set_dataset_data(fileId, datasetPath, [BigInt(count)], [BigInt(start)], [1n], BigInt(ptr));
      onRows?.(start + count);
    }
  } finally {
    module._free(ptr);
  }
  return { chunkRows };
}
