/**
 * Where a dataset's bytes are in an HDF5 file: the few structures between the superblock and a
 * dataset's raw data, read directly, so the data can be fetched and decompressed without the
 * HDF5 library (several chunks at once: see chunkedTableReader.ts). h5wasm still reads
 * everything else (types, attributes, and any file this does not understand).
 *
 * Understood: superblocks 0–3; object headers versions 1 and 2 (with continuation blocks);
 * groups as symbol tables (B-tree + local heap, what PyTables and h5py write by default) or
 * compact links (HDF5's "latest" format, what ccdrift's writer writes); contiguous layouts and
 * chunked layouts version 3 indexed by a version-1 B-tree; the filter pipeline message.
 * Anything else (dense link storage, layout version 4 indexes, external files, …) gives a
 * `StorageUnsupported` with the reason, and the caller reads through h5wasm instead.
 * Format reference: "HDF5 File Format Specification Version 3.0", The HDF Group.
 */
import type { FileHandle } from 'node:fs/promises';

/** This file's structure is valid HDF5 but outside what is read here (the caller falls back). */
export class StorageUnsupported extends Error {
  override name = 'StorageUnsupported';
}

/** One filter of a dataset's pipeline, in order of application when writing. */
export interface StorageFilter {
  id: number;
  /** Optional filter: a chunk may skip it (its bit in the chunk's filter mask). */
  optional: boolean;
  clientData: number[];
}

/** One stored chunk of a chunked dataset. */
export interface StoredChunk {
  /** Element offset of the chunk's first element, per dimension. */
  offset: number[];
  address: number;
  /** Bytes stored (after the filters). */
  size: number;
  /** Bit i set: filter i of the pipeline was not applied to this chunk. */
  filterMask: number;
}

export type DatasetStorage =
  | { layout: 'contiguous'; address: number | null; size: number }
  | { layout: 'chunked'; chunkDims: number[]; elementSize: number; filters: StorageFilter[]; chunks: StoredChunk[] };

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** Message types used here (HDF5 spec IV.A.2). */
const MSG = { layout: 0x0008, filters: 0x000b, continuation: 0x0010, symbolTable: 0x0011, link: 0x0006, linkInfo: 0x0002, external: 0x0007 } as const;

/** Reads little-endian fields of the file with the superblock's sizes of offsets and lengths. */
class Reader {
  private cache = new Map<number, Uint8Array>();
  offsetSize = 8;
  lengthSize = 8;
  base = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly fileSize: number,
  ) {}

  async bytes(address: number, length: number): Promise<Uint8Array> {
    if (address < 0 || address + length > this.fileSize)
      throw new StorageUnsupported(`a structure at byte ${address} (+${length}) lies past the end of the file (${this.fileSize} bytes)`);
    const key = address * 65536 + length;
    const hit = length <= 65535 ? this.cache.get(key) : undefined;
    if (hit) return hit;
    const buf = new Uint8Array(length);
    const { bytesRead } = await this.handle.read(buf, 0, length, address);
    if (bytesRead !== length) throw new StorageUnsupported(`short read at byte ${address}`);
    if (length <= 65535) this.cache.set(key, buf);
    return buf;
  }

  /** An unsigned little-endian integer of `size` bytes at `at` in `b` (exact below 2^53). */
  uint(b: Uint8Array, at: number, size: number): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + b[at + i];
    return v;
  }

  /** An address field; null for HDF5's "undefined address" (all bits set). */
  address(b: Uint8Array, at: number): number | null {
    let undefinedAddress = true;
    for (let i = 0; i < this.offsetSize; i++) if (b[at + i] !== 0xff) undefinedAddress = false;
    return undefinedAddress ? null : this.base + this.uint(b, at, this.offsetSize);
  }
}

interface Message {
  type: number;
  data: Uint8Array;
}

/** The storage of the dataset at `datasetPath` ('/FitResults', '/group/table'). */
export async function locateDatasetStorage(handle: FileHandle, datasetPath: string): Promise<DatasetStorage> {
  const { size } = await handle.stat();
  const r = new Reader(handle, size);
  const rootHeader = await readSuperblock(r);
  let header = rootHeader;
  for (const name of datasetPath.split('/').filter(Boolean)) header = await lookupLink(r, header, name);
  return storageOf(r, await objectMessages(r, header));
}

/** Find the superblock (at 0, 512, 1024, …) and return the root group's object header address. */
async function readSuperblock(r: Reader): Promise<number> {
  for (let at = 0; at < 1 << 20; at = at === 0 ? 512 : at * 2) {
    const head = await r.bytes(at, 8).catch(() => null);
    if (!head) break;
    if (!SIGNATURE.every((v, i) => head[i] === v)) continue;
    const b = await r.bytes(at, 16);
    const version = b[8];
    if (version === 0 || version === 1) {
      r.offsetSize = b[13];
      r.lengthSize = b[14];
      checkSizes(r);
      const addrs = at + (version === 0 ? 24 : 28);
      const rest = await r.bytes(addrs, 4 * r.offsetSize + 2 * r.offsetSize + 8 + 16);
      r.base = r.uint(rest, 0, r.offsetSize);
      // The root group's symbol table entry: link name offset, then its object header address.
      const root = r.address(rest, 4 * r.offsetSize + r.offsetSize);
      if (root === null) throw new StorageUnsupported('the superblock has no root group');
      return root;
    }
    if (version === 2 || version === 3) {
      r.offsetSize = b[9];
      r.lengthSize = b[10];
      checkSizes(r);
      const rest = await r.bytes(at + 12, 4 * r.offsetSize);
      r.base = r.uint(rest, 0, r.offsetSize);
      const root = r.address(rest, 3 * r.offsetSize);
      if (root === null) throw new StorageUnsupported('the superblock has no root group');
      return root;
    }
    throw new StorageUnsupported(`superblock version ${version}`);
  }
  throw new StorageUnsupported('no HDF5 superblock found');
}

function checkSizes(r: Reader): void {
  if (![2, 4, 8].includes(r.offsetSize) || ![2, 4, 8].includes(r.lengthSize)) {
    throw new StorageUnsupported(`sizes of offsets ${r.offsetSize} and lengths ${r.lengthSize}`);
  }
}

/** All messages of the object header at `address`, continuation blocks followed. */
async function objectMessages(r: Reader, address: number): Promise<Message[]> {
  const first = await r.bytes(address, 16);
  const messages: Message[] = [];
  const pending: { at: number; length: number }[] = [];
  const seenBlocks = new Set<number>();
  if (first[0] === 1) {
    // Version 1: 16-byte prefix (12 used, padded to 8), then 8-byte aligned messages.
    const headerSize = r.uint(first, 8, 4);
    pending.push({ at: address + 16, length: headerSize });
    while (pending.length) {
      const { at, length } = pending.shift()!;
      const block = await r.bytes(at, length);
      for (let p = 0; p + 8 <= length;) {
        const type = r.uint(block, p, 2);
        const size = r.uint(block, p + 2, 2);
        const data = block.subarray(p + 8, p + 8 + size);
        if (type === MSG.continuation) pending.push(continuation(r, data, seenBlocks));
        else messages.push({ type, data });
        p += 8 + size;
      }
    }
    return messages;
  }
  if (first[0] === 0x4f && first[1] === 0x48 && first[2] === 0x44 && first[3] === 0x52) {
    // Version 2: "OHDR", version, flags, optional times and phase-change values, chunk size.
    const flags = first[5];
    let p = 6 + (flags & 0x20 ? 16 : 0) + (flags & 0x10 ? 4 : 0);
    const sizeBytes = 1 << (flags & 3);
    const head = await r.bytes(address, p + sizeBytes);
    const chunkSize = r.uint(head, p, sizeBytes);
    p += sizeBytes;
    const creationOrder = (flags & 0x04) !== 0;
    pending.push({ at: address + p, length: chunkSize });
    let firstBlock = true;
    while (pending.length) {
      const { at, length } = pending.shift()!;
      // A continuation block starts with "OCHK"; every block ends with a 4-byte checksum.
      const start = firstBlock ? 0 : 4;
      const end = firstBlock ? length : length - 4;
      firstBlock = false;
      const block = await r.bytes(at, length);
      for (let q = start; q + 4 + (creationOrder ? 2 : 0) <= end;) {
        const type = block[q];
        const size = r.uint(block, q + 1, 2);
        const hdr = 4 + (creationOrder ? 2 : 0);
        const data = block.subarray(q + hdr, q + hdr + size);
        if (type === MSG.continuation) pending.push(continuation(r, data, seenBlocks));
        else if (type !== 0) messages.push({ type, data });
        q += hdr + size;
      }
    }
    return messages;
  }
  throw new StorageUnsupported(`object header at byte ${address} has an unknown version`);
}

/** A continuation block's place; a block seen before (a corrupt file's loop) is refused. */
function continuation(r: Reader, data: Uint8Array, seen: Set<number>): { at: number; length: number } {
  const at = r.address(data, 0);
  if (at === null) throw new StorageUnsupported('an object header continuation has no address');
  if (seen.has(at)) throw new StorageUnsupported(`object header continuation blocks loop (byte ${at})`);
  seen.add(at);
  return { at, length: r.uint(data, r.offsetSize, r.lengthSize) };
}

/** The object header address of the link `name` in the group whose header is at `group`. */
async function lookupLink(r: Reader, group: number, name: string): Promise<number> {
  const messages = await objectMessages(r, group);
  const symbolTable = messages.find((m) => m.type === MSG.symbolTable);
  if (symbolTable) {
    const btree = r.address(symbolTable.data, 0);
    const heap = r.address(symbolTable.data, r.offsetSize);
    if (btree === null || heap === null) throw new StorageUnsupported('a group symbol table without its B-tree or heap');
    const found = await searchSymbolTable(r, btree, await localHeapData(r, heap), name);
    if (found !== null) return found;
    throw new StorageUnsupported(`no link '${name}'`);
  }
  for (const m of messages.filter((x) => x.type === MSG.link)) {
    const link = parseLink(r, m.data);
    if (link.name === name) {
      if (link.address === null) throw new StorageUnsupported(`'${name}' is a soft or external link`);
      return link.address;
    }
  }
  const info = messages.find((m) => m.type === MSG.linkInfo);
  if (info) {
    const heapAt = r.address(info.data, 2 + (info.data[1] & 1 ? 8 : 0));
    if (heapAt !== null) throw new StorageUnsupported('the group stores its links densely (fractal heap)');
  }
  throw new StorageUnsupported(`no link '${name}'`);
}

/** A link message: its name and, for a hard link, the object's header address. */
function parseLink(r: Reader, d: Uint8Array): { name: string; address: number | null } {
  const flags = d[1];
  let p = 2;
  let type = 0;
  if (flags & 0x08) type = d[p++];
  if (flags & 0x04) p += 8;
  if (flags & 0x10) p += 1;
  const lengthBytes = 1 << (flags & 3);
  const nameLength = r.uint(d, p, lengthBytes);
  p += lengthBytes;
  const name = new TextDecoder().decode(d.subarray(p, p + nameLength));
  p += nameLength;
  return { name, address: type === 0 ? r.address(d, p) : null };
}

async function localHeapData(r: Reader, address: number): Promise<{ at: number; size: number }> {
  const h = await r.bytes(address, 8 + 2 * r.lengthSize + r.offsetSize);
  if (String.fromCharCode(h[0], h[1], h[2], h[3]) !== 'HEAP') throw new StorageUnsupported('a group local heap without its signature');
  const size = r.uint(h, 8, r.lengthSize);
  const at = r.address(h, 8 + 2 * r.lengthSize);
  if (at === null) throw new StorageUnsupported('a local heap without data');
  return { at, size };
}

/** Walk a group's version-1 B-tree (type 0) and its symbol nodes for `name`. */
async function searchSymbolTable(r: Reader, node: number, heap: { at: number; size: number }, name: string): Promise<number | null> {
  const heapBytes = await r.bytes(heap.at, heap.size);
  const nameAt = (offset: number) => {
    let end = offset;
    while (end < heapBytes.length && heapBytes[end] !== 0) end++;
    return new TextDecoder().decode(heapBytes.subarray(offset, end));
  };
  const seen = new Set<number>();
  const visit = async (address: number, depth: number): Promise<number | null> => {
    if (depth > 64) throw new StorageUnsupported('a group B-tree deeper than 64 levels');
    if (seen.has(address)) throw new StorageUnsupported(`a group B-tree node is reached twice (byte ${address})`);
    seen.add(address);
    const head = await r.bytes(address, 8);
    const sig = String.fromCharCode(head[0], head[1], head[2], head[3]);
    if (sig === 'SNOD') {
      const count = r.uint(head, 6, 2);
      const entrySize = 2 * r.offsetSize + 24;
      const entries = await r.bytes(address + 8, count * entrySize);
      for (let i = 0; i < count; i++) {
        const e = i * entrySize;
        if (nameAt(r.uint(entries, e, r.offsetSize)) === name) return r.address(entries, e + r.offsetSize);
      }
      return null;
    }
    if (sig !== 'TREE' || head[4] !== 0) throw new StorageUnsupported('a group B-tree node without its signature');
    const entries = r.uint(head, 6, 2);
    const keySize = r.lengthSize;
    const body = await r.bytes(address + 8 + 2 * r.offsetSize, (entries + 1) * keySize + entries * r.offsetSize);
    for (let i = 0; i < entries; i++) {
      const child = r.address(body, keySize + i * (keySize + r.offsetSize));
      if (child === null) continue;
      const found = await visit(child, depth + 1);
      if (found !== null) return found;
    }
    return null;
  };
  return visit(node, 0);
}

/** The dataset's layout, filters and (when chunked) every stored chunk. */
async function storageOf(r: Reader, messages: Message[]): Promise<DatasetStorage> {
  if (messages.some((m) => m.type === MSG.external)) throw new StorageUnsupported('the dataset is stored in external files');
  const layout = messages.find((m) => m.type === MSG.layout);
  if (!layout) throw new StorageUnsupported('the object is not a dataset (no layout message)');
  const d = layout.data;
  const version = d[0];
  if (version !== 3 && version !== 4) throw new StorageUnsupported(`data layout message version ${version}`);
  const kind = d[1];
  if (kind === 1) return { layout: 'contiguous', address: r.address(d, 2), size: r.uint(d, 2 + r.offsetSize, r.lengthSize) };
  if (kind !== 2) throw new StorageUnsupported(kind === 0 ? 'compact layout' : `layout class ${kind}`);
  if (version !== 3) throw new StorageUnsupported('a chunked layout indexed other than by a version-1 B-tree (layout message version 4)');
  const rank = d[2];
  const btree = r.address(d, 3);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(r.uint(d, 3 + r.offsetSize + 4 * i, 4));
  const filterMessage = messages.find((m) => m.type === MSG.filters);
  const filters = filterMessage ? parseFilters(r, filterMessage.data) : [];
  const chunks: StoredChunk[] = btree === null ? [] : await chunkBTree(r, btree, rank);
  return { layout: 'chunked', chunkDims: dims.slice(0, rank - 1), elementSize: dims[rank - 1], filters, chunks };
}

function parseFilters(r: Reader, d: Uint8Array): StorageFilter[] {
  const version = d[0];
  const count = d[1];
  const filters: StorageFilter[] = [];
  let p = version === 1 ? 8 : 2;
  for (let f = 0; f < count; f++) {
    const id = r.uint(d, p, 2);
    p += 2;
    let nameLength = 0;
    if (version === 1 || id >= 256) {
      nameLength = r.uint(d, p, 2);
      p += 2;
    }
    const flags = r.uint(d, p, 2);
    const values = r.uint(d, p + 2, 2);
    p += 4;
    // Version 1 pads the name to a multiple of 8 bytes; version 2 does not pad.
    p += version === 1 ? Math.ceil(nameLength / 8) * 8 : nameLength;
    const clientData: number[] = [];
    for (let i = 0; i < values; i++) clientData.push(r.uint(d, p + 4 * i, 4));
    p += 4 * values;
    if (version === 1 && values % 2 === 1) p += 4;
    filters.push({ id, optional: (flags & 1) !== 0, clientData });
  }
  return filters;
}

/** Every chunk listed by a chunked dataset's version-1 B-tree (type 1). */
async function chunkBTree(r: Reader, root: number, rank: number): Promise<StoredChunk[]> {
  const chunks: StoredChunk[] = [];
  const keySize = 8 + 8 * rank;
  const seen = new Set<number>();
  const visit = async (address: number, depth: number): Promise<void> => {
    if (depth > 64) throw new StorageUnsupported('a chunk B-tree deeper than 64 levels');
    if (seen.has(address)) throw new StorageUnsupported(`a chunk B-tree node is reached twice (byte ${address})`);
    seen.add(address);
    const head = await r.bytes(address, 8 + 2 * r.offsetSize);
    if (String.fromCharCode(head[0], head[1], head[2], head[3]) !== 'TREE' || head[4] !== 1)
      throw new StorageUnsupported('a chunk B-tree node without its signature');
    const level = head[5];
    const entries = r.uint(head, 6, 2);
    const body = await r.bytes(address + 8 + 2 * r.offsetSize, (entries + 1) * keySize + entries * r.offsetSize);
    for (let i = 0; i < entries; i++) {
      const k = i * (keySize + r.offsetSize);
      const child = r.address(body, k + keySize);
      if (child === null) continue;
      if (level > 0) {
        await visit(child, depth + 1);
        continue;
      }
      const offset: number[] = [];
      for (let j = 0; j < rank; j++) offset.push(r.uint(body, k + 8 + 8 * j, 8));
      const size = r.uint(body, k, 4);
      if (child + size > r.fileSize) throw new StorageUnsupported(`a chunk at byte ${child} (${size} bytes) lies past the end of the file`);
      chunks.push({ offset: offset.slice(0, rank - 1), address: child, size, filterMask: r.uint(body, k + 4, 4) });
    }
  };
  await visit(root, 0);
  return chunks;
}
