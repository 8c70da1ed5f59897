/**
 * A small HDF5 writer for one shape of file: groups with attributes, and 1-D chunked compound
 * datasets (PyTables tables) whose chunks are compressed here, with HDF5's shuffle and deflate
 * filters, several at a time. h5wasm allows one filter per dataset and compresses in one
 * thread; this writes what PyTables writes (zlib + shuffle) at least as fast.
 *
 * The structures are those HDF5 1.8 writes with its "latest" format (readable by HDF5 ≥ 1.8:
 * PyTables, h5py, h5wasm, MATLAB): superblock version 2, version-2 object headers, groups
 * holding their links compactly (link info, group info, link messages), attributes as
 * object-header messages, chunked layout (layout message version 3) indexed by a version-1
 * B-tree, which keeps the dataset extendable (PyTables appends to it). Format reference:
 * "HDF5 File Format Specification Version 3.0", The HDF Group.
 *
 * Layout of a written file: superblock, the datasets' chunks in row order, their B-tree
 * nodes, then the object headers (children before their parent), so everything streams to
 * disk once and only the superblock is written last, at offset 0.
 */
import type { ColumnDtype } from '../../core/types.js';

/**
 * An attribute value as PyTables stores it: a scalar fixed-length string, a scalar number, or a
 * numpy bool (an 8-bit bitfield).
 */
export type AttributeValue =
  { kind: 'string'; text: string; cset: 'utf8' | 'ascii' } | { kind: 'number'; value: number; dtype: ColumnDtype } | { kind: 'bool'; value: boolean };

export interface Attribute {
  name: string;
  value: AttributeValue;
}

/** A fixed-length byte string member of `n` bytes (numpy's `S<n>`, as PYME's /Events holds them). */
export type FixedString = `S${number}`;

/**
 * A column of a chunked compound dataset: its member name, values and file dtype. A FixedString
 * column's values are its bytes, `n` per row, NUL-padded.
 */
export interface TableField {
  name: string;
  values: ArrayLike<number>;
  dtype: ColumnDtype | FixedString;
}

export interface GroupNode {
  kind: 'group';
  attributes: Attribute[];
  /** Children by link name, in the order they are listed. */
  children: Map<string, GroupNode | TableNode>;
}

export interface TableNode {
  kind: 'table';
  attributes: Attribute[];
  fields: TableField[];
  rows: number;
  /** Rows per chunk (≥ 1). */
  chunkRows: number;
  /** zlib level 1–9 of the deflate filter (after shuffle). */
  deflateLevel: number;
}

/** Where the bytes go: positioned writes (node:fs/promises FileHandle and the browser shim both have this). */
export interface PositionedWriter {
  write(data: Uint8Array, offset: number, length: number, position: number): Promise<unknown>;
}

/** zlib-wrapped deflate of one chunk (HDF5's deflate filter stores the zlib format). */
export type Deflate = (data: Uint8Array, level: number) => Promise<Uint8Array>;

/** Thrown before anything is written when the tree holds something this writer does not encode. */
export class UnsupportedByWriterError extends Error {
  override name = 'UnsupportedByWriterError';
}

const UNDEFINED_ADDRESS = 0xffffffffffffffffn;
/** HDF5's default "K" of chunk B-trees (superblock v2 keeps the default): nodes hold up to 2K children. */
const CHUNK_BTREE_K = 32;
/** An object-header message's size field is 16 bits. */
const MAX_MESSAGE_BYTES = 0xffff;

/** Object-header message types used here. */
const MSG = {
  DATASPACE: 0x01,
  LINK_INFO: 0x02,
  DATATYPE: 0x03,
  FILL_VALUE: 0x05,
  LINK: 0x06,
  LAYOUT: 0x08,
  GROUP_INFO: 0x0a,
  FILTERS: 0x0b,
  ATTRIBUTE: 0x0c,
} as const;

// ---------------------------------------------------------------------------------------------
// Bytes

/** A growable little-endian byte buffer. */
class Bytes {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): this {
    this.ensure(1);
    this.buf[this.length++] = v;
    return this;
  }
  u16(v: number): this {
    this.ensure(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
    return this;
  }
  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.length, v >>> 0, true);
    this.length += 4;
    return this;
  }
  u64(v: number | bigint): this {
    this.ensure(8);
    this.view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }
  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
    return this;
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const utf8 = new TextEncoder();

/** Bob Jenkins' lookup3 `hashlittle`, the checksum of HDF5's version-2 metadata (H5_checksum_lookup3). */
export function lookup3(data: Uint8Array, initval = 0): number {
  let a = (0xdeadbeef + data.length + initval) >>> 0;
  let b = a;
  let c = a;
  const rot = (x: number, k: number) => (x << k) | (x >>> (32 - k));
  let i = 0;
  let n = data.length;
  while (n > 12) {
    a = (a + (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) | 0;
    b = (b + (data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24))) | 0;
    c = (c + (data[i + 8] | (data[i + 9] << 8) | (data[i + 10] << 16) | (data[i + 11] << 24))) | 0;
    a = (a - c) | 0;
    a ^= rot(c, 4);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 6);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 8);
    b = (b + a) | 0;
    a = (a - c) | 0;
    a ^= rot(c, 16);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 19);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 4);
    b = (b + a) | 0;
    i += 12;
    n -= 12;
  }
  if (n === 0) return c >>> 0;
  // The tail, bytes i .. i+n-1, added as in the reference's fall-through switch.
  const k = (j: number) => (j < n ? data[i + j] : 0);
  c = (c + (k(8) | (k(9) << 8) | (k(10) << 16) | (k(11) << 24))) | 0;
  b = (b + (k(4) | (k(5) << 8) | (k(6) << 16) | (k(7) << 24))) | 0;
  a = (a + (k(0) | (k(1) << 8) | (k(2) << 16) | (k(3) << 24))) | 0;
  c ^= b;
  c = (c - rot(b, 14)) | 0;
  a ^= c;
  a = (a - rot(c, 11)) | 0;
  b ^= a;
  b = (b - rot(a, 25)) | 0;
  c ^= b;
  c = (c - rot(b, 16)) | 0;
  a ^= c;
  a = (a - rot(c, 4)) | 0;
  b ^= a;
  b = (b - rot(a, 14)) | 0;
  c ^= b;
  c = (c - rot(b, 24)) | 0;
  return c >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Messages

function dtypeBytes(dtype: ColumnDtype | FixedString): number {
  return Number(dtype.slice(1));
}

function isFixedString(dtype: ColumnDtype | FixedString): dtype is FixedString {
  return dtype.startsWith('S');
}

/** Datatype message (version 1) of an 8-bit little-endian bitfield: numpy's bool as PyTables stores it. */
function bitfieldType(): Uint8Array {
  return new Bytes()
    .u8(0x10 | 4)
    .u8(0)
    .u8(0)
    .u8(0)
    .u32(1)
    .u16(0)
    .u16(8)
    .done();
}

/** Datatype message (version 1) of a scalar number. */
function numberType(dtype: ColumnDtype): Uint8Array {
  const size = dtypeBytes(dtype);
  const out = new Bytes();
  if (dtype.startsWith('f')) {
    // class 1, little-endian, implied-msb mantissa normalisation; sign bit location
    out
      .u8(0x10 | 1)
      .u8(0x20)
      .u8(size * 8 - 1)
      .u8(0)
      .u32(size);
    out.u16(0).u16(size * 8);
    if (size === 4) out.u8(23).u8(8).u8(0).u8(23).u32(127);
    else out.u8(52).u8(11).u8(0).u8(52).u32(1023);
  } else {
    out
      .u8(0x10 | 0)
      .u8(dtype.startsWith('i') ? 0x08 : 0)
      .u8(0)
      .u8(0)
      .u32(size);
    out.u16(0).u16(size * 8);
  }
  return out.done();
}

/** Datatype message (version 1) of a null-terminated fixed-length string, as PyTables writes attributes. */
function stringType(size: number, cset: 'utf8' | 'ascii'): Uint8Array {
  return new Bytes()
    .u8(0x10 | 3)
    .u8(cset === 'utf8' ? 0x10 : 0)
    .u8(0)
    .u8(0)
    .u32(size)
    .done();
}

/** Datatype message (version 1) of a packed compound of scalar members. */
function compoundType(fields: TableField[]): { type: Uint8Array; rowBytes: number; offsets: number[] } {
  const members = new Bytes();
  let offset = 0;
  const offsets: number[] = [];
  for (const f of fields) {
    const name = utf8.encode(f.name);
    members.bytes(name).zeros(8 - (name.length % 8)); // null-terminated, padded to 8
    members.u32(offset).u8(0).zeros(3).u32(0).zeros(4).zeros(16); // no array dimensions
    members.bytes(isFixedString(f.dtype) ? stringType(dtypeBytes(f.dtype), 'ascii') : numberType(f.dtype));
    offsets.push(offset);
    offset += dtypeBytes(f.dtype);
  }
  const head = new Bytes()
    .u8(0x10 | 6)
    .u16(fields.length)
    .u8(0)
    .u32(offset);
  return { type: head.bytes(members.done()).done(), rowBytes: offset, offsets };
}

/** Dataspace message (version 2): scalar when `dims` is empty. */
function dataspace(dims: number[], maxDims?: (number | 'unlimited')[]): Uint8Array {
  const out = new Bytes()
    .u8(2)
    .u8(dims.length)
    .u8(maxDims ? 1 : 0)
    .u8(dims.length === 0 ? 0 : 1);
  for (const d of dims) out.u64(d);
  if (maxDims) for (const d of maxDims) out.u64(d === 'unlimited' ? UNDEFINED_ADDRESS : d);
  return out.done();
}

function numberBytes(value: number, dtype: ColumnDtype): Uint8Array {
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  const v = dtype.startsWith('f') ? value : Math.trunc(value);
  switch (dtype) {
    case 'f8':
      dv.setFloat64(0, v, true);
      break;
    case 'f4':
      dv.setFloat32(0, v, true);
      break;
    case 'i8':
      dv.setBigInt64(0, BigInt(v), true);
      break;
    case 'u8':
      dv.setBigUint64(0, BigInt(v), true);
      break;
    case 'i4':
      dv.setInt32(0, v, true);
      break;
    case 'u4':
      dv.setUint32(0, v, true);
      break;
    case 'i2':
      dv.setInt16(0, v, true);
      break;
    case 'u2':
      dv.setUint16(0, v, true);
      break;
    case 'i1':
      dv.setInt8(0, v);
      break;
    default:
      dv.setUint8(0, v);
  }
  return out.subarray(0, dtypeBytes(dtype));
}

/** Attribute message (version 3) body. */
function attributeMessage(attr: Attribute): Uint8Array {
  let type: Uint8Array;
  let data: Uint8Array;
  if (attr.value.kind === 'string') {
    const text = utf8.encode(attr.value.text);
    // PyTables' own layout: exactly the text's bytes (one NUL for an empty string).
    data = text.length > 0 ? text : new Uint8Array(1);
    type = stringType(data.length, attr.value.cset);
  } else if (attr.value.kind === 'bool') {
    type = bitfieldType();
    data = Uint8Array.of(attr.value.value ? 1 : 0);
  } else {
    type = numberType(attr.value.dtype);
    data = numberBytes(attr.value.value, attr.value.dtype);
  }
  const name = utf8.encode(attr.name);
  const space = dataspace([]);
  const ascii = name.every((b) => b < 0x80);
  return new Bytes()
    .u8(3)
    .u8(0)
    .u16(name.length + 1)
    .u16(type.length)
    .u16(space.length)
    .u8(ascii ? 0 : 1)
    .bytes(name)
    .u8(0)
    .bytes(type)
    .bytes(space)
    .bytes(data)
    .done();
}

/** Link message (version 1) of a hard link. */
function linkMessage(name: string, address: number): Uint8Array {
  const bytes = utf8.encode(name);
  const ascii = bytes.every((b) => b < 0x80);
  const width = bytes.length < 0x100 ? 0 : bytes.length < 0x10000 ? 1 : 2;
  const out = new Bytes().u8(1).u8(width | (ascii ? 0 : 0x10));
  if (!ascii) out.u8(1);
  if (width === 0) out.u8(bytes.length);
  else if (width === 1) out.u16(bytes.length);
  else out.u32(bytes.length);
  return out.bytes(bytes).u64(address).done();
}

interface Message {
  type: number;
  body: Uint8Array;
  /** Message flags; bit 0 marks a message that never changes. */
  flags?: number;
}

/** A version-2 object header holding `messages` in one chunk, with its checksum. */
function objectHeader(messages: Message[]): Uint8Array {
  const bodyBytes = messages.reduce((s, m) => s + 4 + m.body.length, 0);
  const width = bodyBytes < 0x100 ? 0 : bodyBytes < 0x10000 ? 1 : 2;
  const out = new Bytes().bytes(utf8.encode('OHDR')).u8(2).u8(width);
  if (width === 0) out.u8(bodyBytes);
  else if (width === 1) out.u16(bodyBytes);
  else out.u32(bodyBytes);
  for (const m of messages)
    out
      .u8(m.type)
      .u16(m.body.length)
      .u8(m.flags ?? 0)
      .bytes(m.body);
  const bytes = out.done();
  return new Bytes().bytes(bytes).u32(lookup3(bytes)).done();
}

function attributeMessages(attributes: Attribute[], where: string): Message[] {
  return attributes.map((a) => {
    const body = attributeMessage(a);
    if (body.length > MAX_MESSAGE_BYTES) {
      throw new UnsupportedByWriterError(`attribute ${where}:${a.name} takes ${body.length} bytes, more than an object-header message holds`);
    }
    return { type: MSG.ATTRIBUTE, body };
  });
}

// ---------------------------------------------------------------------------------------------
// Chunks: shuffle + deflate

/** Whether typed arrays here are little-endian (the file's byte order): true on every current platform. */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const ARRAY_OF: Record<ColumnDtype, new (n: number) => ArrayLike<number> & { buffer: ArrayBufferLike; set(a: ArrayLike<number>): void }> = {
  i1: Int8Array,
  u1: Uint8Array,
  i2: Int16Array,
  u2: Uint16Array,
  i4: Int32Array,
  u4: Uint32Array,
  i8: Float64Array, // placeholder: 64-bit integers are split by hand below
  u8: Float64Array,
  f4: Float32Array,
  f8: Float64Array,
};

/** `count` values of `field` from row `start`, as the little-endian bytes of its file dtype. */
function fieldBytes(field: TableField, start: number, count: number): Uint8Array {
  const { values, dtype } = field;
  if (isFixedString(dtype)) {
    const size = dtypeBytes(dtype);
    const bytes = values as Uint8Array;
    return bytes.subarray(start * size, (start + count) * size);
  }
  if (dtype === 'i8' || dtype === 'u8') {
    const out = new Uint32Array(2 * count);
    for (let i = 0; i < count; i++) {
      const v = Math.trunc(values[start + i]);
      const hi = Math.floor(v / 4294967296);
      out[2 * i] = v - hi * 4294967296;
      out[2 * i + 1] = hi;
    }
    return new Uint8Array(out.buffer);
  }
  const Ctor = ARRAY_OF[dtype];
  if (values instanceof Ctor && ArrayBuffer.isView(values)) {
    const view = values as unknown as Uint8Array;
    const size = dtypeBytes(dtype);
    return new Uint8Array(view.buffer, view.byteOffset + start * size, count * size);
  }
  const out = new Ctor(count);
  if (ArrayBuffer.isView(values) && 'subarray' in values) {
    out.set((values as unknown as { subarray(a: number, b: number): ArrayLike<number> }).subarray(start, start + count));
  } else {
    const o = out as unknown as number[];
    for (let i = 0; i < count; i++) o[i] = values[start + i];
  }
  return new Uint8Array(out.buffer);
}

/**
 * One chunk of `chunkRows` rows from `start`, as HDF5's shuffle filter leaves it for a compound
 * of `rowBytes`: byte j of every row together (out[j·n + i] = row i's byte j). Rows past the
 * end stay zero (the fill value).
 */
export function shuffledChunk(fields: TableField[], offsets: number[], rowBytes: number, start: number, chunkRows: number, rows: number): Uint8Array {
  const n = chunkRows;
  const count = Math.min(chunkRows, rows - start);
  const out = new Uint8Array(n * rowBytes);
  fields.forEach((field, f) => {
    const size = dtypeBytes(field.dtype);
    const src = fieldBytes(field, start, count);
    if (size >= 4 && n % 4 === 0) shuffleWords(src, size / 4, out, offsets[f] * n, n, count);
    else shuffleBytes(src, size, out, offsets[f] * n, n, count);
  });
  return out;
}

/** The byte planes of `count` elements of `size` bytes at `src` into `out` from `at`, planes `n` bytes apart. */
function shuffleBytes(src: Uint8Array, size: number, out: Uint8Array, at: number, n: number, count: number): void {
  for (let b = 0; b < size; b++) {
    let dst = at + b * n;
    for (let i = 0, s = b; i < count; i++, s += size) out[dst++] = src[s];
  }
}

/**
 * shuffleBytes for elements of `words` 32-bit words (4- and 8-byte types), 4 elements at a
 * time: each plane receives one 32-bit word per 4 elements (about 10× faster than byte by
 * byte). Needs `n` and the planes 4-aligned.
 */
function shuffleWords(src: Uint8Array, words: number, out: Uint8Array, at: number, n: number, count: number): void {
  const w = new Uint32Array(src.buffer, src.byteOffset, count * words);
  const o = new Uint32Array(out.buffer, out.byteOffset, out.length >> 2);
  const quads = count >> 2;
  for (let k = 0; k < words; k++) {
    const plane = (at + 4 * k * n) >> 2; // plane of byte 4k, in words
    const step = n >> 2; // next byte's plane
    for (let q = 0, i = k; q < quads; q++, i += 4 * words) {
      const a = w[i];
      const b = w[i + words];
      const c = w[i + 2 * words];
      const d = w[i + 3 * words];
      o[plane + q] = (a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | (d << 24);
      o[plane + step + q] = ((a >>> 8) & 0xff) | (b & 0xff00) | ((c & 0xff00) << 8) | ((d >>> 8) << 24);
      o[plane + 2 * step + q] = ((a >>> 16) & 0xff) | ((b >>> 8) & 0xff00) | (c & 0xff0000) | ((d >>> 16) << 24);
      o[plane + 3 * step + q] = (a >>> 24) | ((b >>> 16) & 0xff00) | ((c >>> 8) & 0xff0000) | ((d >>> 24) << 24);
    }
  }
  // The last count % 4 elements, byte by byte.
  const size = 4 * words;
  for (let b = 0; b < size; b++) {
    for (let i = quads * 4; i < count; i++) out[at + b * n + i] = src[i * size + b];
  }
}

// ---------------------------------------------------------------------------------------------
// The file

/** What a table's chunks became: their addresses and stored sizes, in row order. */
interface WrittenChunks {
  addresses: number[];
  sizes: number[];
}

/** Writes one file; `end` is the next free byte. */
class FileWriter {
  end = 48; // after the superblock

  constructor(private readonly out: PositionedWriter) {}

  async append(bytes: Uint8Array): Promise<number> {
    const at = this.end;
    await this.out.write(bytes, 0, bytes.length, at);
    this.end += bytes.length;
    return at;
  }

  async writeAt(bytes: Uint8Array, position: number): Promise<void> {
    await this.out.write(bytes, 0, bytes.length, position);
  }
}

/**
 * Compress and write the chunks of `table` in row order, `parallel` of them being deflated at a
 * time (node:zlib's asynchronous deflate runs on libuv's thread pool) while this thread shuffles
 * the next ones.
 */
async function writeChunks(
  file: FileWriter,
  table: TableNode,
  offsets: number[],
  rowBytes: number,
  deflate: Deflate,
  parallel: number,
  onRows?: (done: number) => void,
): Promise<WrittenChunks> {
  const nChunks = Math.ceil(table.rows / table.chunkRows);
  const result: WrittenChunks = { addresses: [], sizes: [] };
  const pending: Promise<Uint8Array>[] = [];
  let next = 0;
  const launch = () => {
    const start = next * table.chunkRows;
    pending.push(deflate(shuffledChunk(table.fields, offsets, rowBytes, start, table.chunkRows, table.rows), table.deflateLevel));
    next++;
  };
  try {
    for (let c = 0; c < nChunks; c++) {
      while (next < nChunks && next - c < parallel) launch();
      const compressed = await pending.shift()!;
      result.addresses.push(await file.append(compressed));
      result.sizes.push(compressed.length);
      onRows?.(Math.min(table.rows, (c + 1) * table.chunkRows));
    }
  } finally {
    // A failed write must not leave deflates unobserved (an unhandled rejection).
    await Promise.allSettled(pending);
  }
  return result;
}

/** The version-1 B-tree (node type 1, chunked raw data) over the chunks; returns its root address. */
async function writeChunkBtree(file: FileWriter, chunks: WrittenChunks, chunkRows: number, rowBytes: number): Promise<number> {
  const entries = 2 * CHUNK_BTREE_K;
  const keyBytes = 4 + 4 + 2 * 8;
  const nodeBytes = 24 + (entries + 1) * keyBytes + entries * 8;
  interface Key {
    size: number;
    row: number;
    elem: number;
  }
  const encodeKey = (b: Bytes, k: Key) => b.u32(k.size).u32(0).u64(k.row).u64(k.elem);
  // Level 0: children are chunks; each chunk's key is its first row; the last key closes the range.
  let children = chunks.addresses.map((address, i) => ({ address, key: { size: chunks.sizes[i], row: i * chunkRows, elem: 0 } }));
  const rightmost: Key = { size: 0, row: chunks.addresses.length * chunkRows, elem: rowBytes };
  let level = 0;
  for (;;) {
    const nodes: { address: number; key: Key }[] = [];
    for (let at = 0; at < children.length; at += entries) {
      const group = children.slice(at, at + entries);
      const closing = at + entries < children.length ? children[at + entries].key : rightmost;
      const b = new Bytes().bytes(utf8.encode('TREE')).u8(1).u8(level).u16(group.length).u64(UNDEFINED_ADDRESS).u64(UNDEFINED_ADDRESS);
      for (const child of group) encodeKey(b, child.key).u64(child.address);
      encodeKey(b, closing);
      b.zeros(nodeBytes - b.length); // nodes are read and rewritten at their full size
      nodes.push({ address: -1, key: group[0].key });
      nodes[nodes.length - 1].address = await file.append(b.done());
    }
    if (nodes.length > 1) {
      // Siblings point at each other (HDF5 follows them when it splits nodes on append).
      for (let i = 0; i < nodes.length; i++) {
        const b = new Bytes().u64(i > 0 ? nodes[i - 1].address : UNDEFINED_ADDRESS).u64(i + 1 < nodes.length ? nodes[i + 1].address : UNDEFINED_ADDRESS);
        await file.writeAt(b.done(), nodes[i].address + 8);
      }
    }
    if (nodes.length === 1) return nodes[0].address;
    children = nodes;
    level++;
  }
}

function tableMessages(table: TableNode, type: Uint8Array, rowBytes: number, btree: number | null): Message[] {
  const layout = new Bytes()
    .u8(3)
    .u8(2)
    .u8(2)
    .u64(btree ?? UNDEFINED_ADDRESS)
    .u32(table.chunkRows)
    .u32(rowBytes)
    .done();
  // Shuffle then deflate, both optional (as PyTables and h5py mark them); their parameters are
  // the element size and the zlib level.
  const filters = new Bytes().u8(2).u8(2).u16(2).u16(1).u16(1).u32(rowBytes).u16(1).u16(1).u16(1).u32(table.deflateLevel).done();
  // Fill value version 3: allocation incremental, written if set, defined as zeros.
  const fill = new Bytes()
    .u8(3)
    .u8(3 | (2 << 2) | (1 << 5))
    .u32(rowBytes)
    .zeros(rowBytes)
    .done();
  return [
    { type: MSG.DATASPACE, body: dataspace([table.rows], ['unlimited']) },
    { type: MSG.DATATYPE, body: type, flags: 1 },
    { type: MSG.FILL_VALUE, body: fill, flags: 1 },
    { type: MSG.LAYOUT, body: layout },
    { type: MSG.FILTERS, body: filters },
  ];
}

function groupMessages(links: [string, number][]): Message[] {
  const linkInfo = new Bytes().u8(0).u8(0).u64(UNDEFINED_ADDRESS).u64(UNDEFINED_ADDRESS).done();
  return [
    { type: MSG.LINK_INFO, body: linkInfo },
    { type: MSG.GROUP_INFO, body: Uint8Array.of(0, 0) },
    ...links.map(([name, address]) => ({ type: MSG.LINK, body: linkMessage(name, address) })),
  ];
}

/** Check everything that could make the writer refuse, before a byte is written. */
function validate(node: GroupNode | TableNode, path: string): void {
  attributeMessages(node.attributes, path || '/');
  const names = new Set(node.attributes.map((a) => a.name));
  if (names.size < node.attributes.length || names.has('')) throw new UnsupportedByWriterError(`repeated or empty attribute names on ${path || '/'}`);
  if (node.kind === 'table') {
    if (!LITTLE_ENDIAN_HOST) throw new UnsupportedByWriterError('this platform is big-endian');
    if (!(node.chunkRows >= 1) || node.chunkRows * compoundType(node.fields).rowBytes >= 2 ** 32) {
      throw new UnsupportedByWriterError(`chunks of ${node.chunkRows} rows`);
    }
    if (node.fields.length === 0 || node.fields.length > 0xffff) throw new UnsupportedByWriterError(`a table of ${node.fields.length} columns`);
    const columns = new Set(node.fields.map((f) => f.name));
    if (columns.size < node.fields.length || columns.has('')) throw new UnsupportedByWriterError(`repeated or empty column names in ${path}`);
    const { type } = compoundType(node.fields);
    if (type.length > MAX_MESSAGE_BYTES) throw new UnsupportedByWriterError(`the row type of ${path} takes ${type.length} bytes`);
    return;
  }
  for (const [name, child] of node.children) {
    if (name === '' || name.includes('/') || name === '.') throw new UnsupportedByWriterError(`a link named '${name}'`);
    validate(child, `${path}/${name}`);
  }
}

/**
 * Write `root` (the root group and everything under it) as an HDF5 file through `out`, which
 * must be empty. Throws UnsupportedByWriterError before writing when the tree needs something
 * this writer does not encode (then use another writer).
 */
export async function writeHdf5(
  out: PositionedWriter,
  root: GroupNode,
  {
    deflate,
    parallel = 2,
    onRows,
  }: {
    /** The chunks' deflate: one function for every table, or a maker called once per table (a deflate that adapts to its table). */
    deflate: Deflate | { perTable: () => Deflate };
    parallel?: number;
    onRows?: (done: number) => void;
  },
): Promise<void> {
  validate(root, '');
  const file = new FileWriter(out);
  // Raw data and indexes first (their addresses go into the headers).
  const btrees = new Map<TableNode, { address: number | null; type: Uint8Array; rowBytes: number }>();
  const visitTables = async (node: GroupNode | TableNode) => {
    if (node.kind === 'group') {
      for (const child of node.children.values()) await visitTables(child);
      return;
    }
    const { type, rowBytes, offsets } = compoundType(node.fields);
    let address: number | null = null;
    if (node.rows > 0) {
      const chunks = await writeChunks(
        file,
        node,
        offsets,
        rowBytes,
        typeof deflate === 'function' ? deflate : deflate.perTable(),
        Math.max(1, parallel),
        onRows,
      );
      address = await writeChunkBtree(file, chunks, node.chunkRows, rowBytes);
    }
    btrees.set(node, { address, type, rowBytes });
  };
  await visitTables(root);
  // Object headers, children before parents.
  const writeObject = async (node: GroupNode | TableNode, path: string): Promise<number> => {
    if (node.kind === 'table') {
      const t = btrees.get(node)!;
      return file.append(objectHeader([...tableMessages(node, t.type, t.rowBytes, t.address), ...attributeMessages(node.attributes, path)]));
    }
    const links: [string, number][] = [];
    for (const [name, child] of node.children) links.push([name, await writeObject(child, `${path}/${name}`)]);
    return file.append(objectHeader([...groupMessages(links), ...attributeMessages(node.attributes, path || '/')]));
  };
  const rootAddress = await writeObject(root, '');
  const superblock = new Bytes()
    .bytes(Uint8Array.of(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a))
    .u8(2) // version
    .u8(8) // size of offsets
    .u8(8) // size of lengths
    .u8(0) // consistency flags
    .u64(0) // base address
    .u64(UNDEFINED_ADDRESS) // no superblock extension
    .u64(file.end) // end of file
    .u64(rootAddress)
    .done();
  await file.writeAt(new Bytes().bytes(superblock).u32(lookup3(superblock)).done(), 0);
}
