/**
 * TIFF structure reader: header and IFD chain of classic TIFF and BigTIFF, either byte order,
 * read lazily from a file handle (only the IFDs and the tag values ccdrift needs, never the
 * pixel data), so stacks of any size open instantly and in bounded memory.
 *
 * References: TIFF 6.0 (Adobe, 1992); BigTIFF (https://www.awaresystems.be/imaging/tiff/bigtiff.html).
 */
import type { FileHandle } from 'node:fs/promises';
import { InputError } from '../../core/errors.js';

export const TAG = {
  NewSubfileType: 254,
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  ImageDescription: 270,
  StripOffsets: 273,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  XResolution: 282,
  YResolution: 283,
  PlanarConfiguration: 284,
  ResolutionUnit: 296,
  Predictor: 317,
  TileWidth: 322,
  SampleFormat: 339,
  /** Private tag holding ccdrift's metadata as JSON (first page of files ccdrift writes). */
  CcdriftMetadata: 65000,
} as const;

/** Byte size of each TIFF field type. */
export const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };

export interface TiffPage {
  width: number;
  height: number;
  bitsPerSample: number;
  /** 1 unsigned, 2 signed, 3 IEEE float. */
  sampleFormat: number;
  samplesPerPixel: number;
  compression: number;
  predictor: number;
  tiled: boolean;
  newSubfileType: number;
  rowsPerStrip: number;
  stripOffsets: number[];
  stripByteCounts: number[];
  /** Only read for the first page. */
  description?: string;
  privateJson?: string;
  /** Pixels per resolution unit, or undefined. */
  xResolution?: number;
  yResolution?: number;
  resolutionUnit: number;
}

export interface TiffStructure {
  littleEndian: boolean;
  bigTiff: boolean;
  pages: TiffPage[];
  fileSize: number;
}

async function readAt(fh: FileHandle, offset: number, length: number, path: string, fileSize: number): Promise<DataView> {
  // Offsets and counts come from the file: check them against its size before allocating.
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > fileSize) {
    throw new InputError(`${path}: corrupt or truncated TIFF (an entry points to ${length} bytes at offset ${offset}; the file has ${fileSize})`);
  }
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, offset);
  if (bytesRead < length) throw new InputError(`${path}: truncated TIFF (wanted ${length} bytes at offset ${offset}, file ends earlier)`);
  return new DataView(buf.buffer, buf.byteOffset, length);
}

function getUint64(dv: DataView, pos: number, le: boolean): number {
  const lo = dv.getUint32(pos + (le ? 0 : 4), le);
  const hi = dv.getUint32(pos + (le ? 4 : 0), le);
  return hi * 2 ** 32 + lo;
}

function readValue(dv: DataView, pos: number, type: number, le: boolean): number {
  switch (type) {
    case 1:
    case 2:
    case 7:
      return dv.getUint8(pos);
    case 6:
      return dv.getInt8(pos);
    case 3:
      return dv.getUint16(pos, le);
    case 8:
      return dv.getInt16(pos, le);
    case 4:
    case 13:
      return dv.getUint32(pos, le);
    case 9:
      return dv.getInt32(pos, le);
    case 5:
      return dv.getUint32(pos, le) / dv.getUint32(pos + 4, le);
    case 10:
      return dv.getInt32(pos, le) / dv.getInt32(pos + 4, le);
    case 11:
      return dv.getFloat32(pos, le);
    case 12:
      return dv.getFloat64(pos, le);
    case 16:
    case 18:
      return getUint64(dv, pos, le);
    case 17:
      return Number(dv.getBigInt64(pos, le));
    default:
      return NaN;
  }
}

interface Entry {
  type: number;
  count: number;
  /** Where the value lives: in `inline` at `pos`, or at file offset `offset`. */
  inline: DataView | null;
  pos: number;
  offset: number;
}

const WANTED_ALWAYS = new Set<number>([
  TAG.NewSubfileType,
  TAG.ImageWidth,
  TAG.ImageLength,
  TAG.BitsPerSample,
  TAG.Compression,
  TAG.StripOffsets,
  TAG.SamplesPerPixel,
  TAG.RowsPerStrip,
  TAG.StripByteCounts,
  TAG.Predictor,
  TAG.TileWidth,
  TAG.SampleFormat,
  TAG.XResolution,
  TAG.YResolution,
  TAG.ResolutionUnit,
]);

/** Parse the header and every IFD (pages in file order). */
export async function readTiffStructure(fh: FileHandle, path: string): Promise<TiffStructure> {
  const fileSize = (await fh.stat()).size;
  if (fileSize < 8) throw new InputError(`${path}: not a TIFF file (only ${fileSize} bytes)`);
  const head = await readAt(fh, 0, Math.min(16, fileSize), path, fileSize);
  const bom = head.getUint16(0, false);
  if (bom !== 0x4949 && bom !== 0x4d4d) throw new InputError(`${path}: not a TIFF file (no II/MM byte-order mark)`);
  const le = bom === 0x4949;
  const magic = head.getUint16(2, le);
  if (magic !== 42 && magic !== 43) throw new InputError(`${path}: not a TIFF file (version ${magic}, expected 42 or BigTIFF 43)`);
  const big = magic === 43;
  if (big && fileSize < 16) throw new InputError(`${path}: truncated BigTIFF (only ${fileSize} bytes, the header alone has 16)`);
  let ifdOffset = big ? getUint64(head, 8, le) : head.getUint32(4, le);
  const countSize = big ? 8 : 2;
  const entrySize = big ? 20 : 12;
  const inlineSize = big ? 8 : 4;
  const pages: TiffPage[] = [];
  const seen = new Set<number>();
  while (ifdOffset !== 0) {
    if (seen.has(ifdOffset) || ifdOffset >= fileSize) throw new InputError(`${path}: corrupt TIFF (IFD chain loops or points past the end at ${ifdOffset})`);
    seen.add(ifdOffset);
    const cdv = await readAt(fh, ifdOffset, countSize, path, fileSize);
    const n = big ? getUint64(cdv, 0, le) : cdv.getUint16(0, le);
    const body = await readAt(fh, ifdOffset + countSize, n * entrySize + (big ? 8 : 4), path, fileSize);
    const first = pages.length === 0;
    const entries = new Map<number, Entry>();
    for (let e = 0; e < n; e++) {
      const p = e * entrySize;
      const tag = body.getUint16(p, le);
      if (!WANTED_ALWAYS.has(tag) && !(first && (tag === TAG.ImageDescription || tag === TAG.CcdriftMetadata))) continue;
      const type = body.getUint16(p + 2, le);
      const count = big ? getUint64(body, p + 4, le) : body.getUint32(p + 4, le);
      const bytes = (TYPE_SIZE[type] ?? 1) * count;
      const valuePos = p + 4 + (big ? 8 : 4);
      if (bytes <= inlineSize) entries.set(tag, { type, count, inline: body, pos: valuePos, offset: 0 });
      else entries.set(tag, { type, count, inline: null, pos: 0, offset: big ? getUint64(body, valuePos, le) : body.getUint32(valuePos, le) });
    }
    const values = async (tag: number): Promise<number[] | undefined> => {
      const en = entries.get(tag);
      if (!en) return undefined;
      const size = TYPE_SIZE[en.type] ?? 1;
      const dv = en.inline ?? (await readAt(fh, en.offset, size * en.count, path, fileSize));
      const start = en.inline ? en.pos : 0;
      const out = new Array<number>(en.count);
      for (let i = 0; i < en.count; i++) out[i] = readValue(dv, start + i * size, en.type, le);
      return out;
    };
    const text = async (tag: number): Promise<string | undefined> => {
      const en = entries.get(tag);
      if (!en) return undefined;
      const dv = en.inline ?? (await readAt(fh, en.offset, en.count, path, fileSize));
      const bytes = new Uint8Array(dv.buffer, dv.byteOffset + (en.inline ? en.pos : 0), en.count);
      let end = bytes.indexOf(0);
      if (end < 0) end = bytes.length;
      return Buffer.from(bytes.subarray(0, end)).toString('utf8');
    };
    const one = async (tag: number, fallback: number) => (await values(tag))?.[0] ?? fallback;
    const width = await one(TAG.ImageWidth, 0);
    const height = await one(TAG.ImageLength, 0);
    const page: TiffPage = {
      width,
      height,
      bitsPerSample: await one(TAG.BitsPerSample, 1),
      sampleFormat: await one(TAG.SampleFormat, 1),
      samplesPerPixel: await one(TAG.SamplesPerPixel, 1),
      compression: await one(TAG.Compression, 1),
      predictor: await one(TAG.Predictor, 1),
      tiled: entries.has(TAG.TileWidth),
      newSubfileType: await one(TAG.NewSubfileType, 0),
      rowsPerStrip: Math.min(await one(TAG.RowsPerStrip, height), height),
      stripOffsets: (await values(TAG.StripOffsets)) ?? [],
      stripByteCounts: (await values(TAG.StripByteCounts)) ?? [],
      xResolution: (await values(TAG.XResolution))?.[0],
      yResolution: (await values(TAG.YResolution))?.[0],
      resolutionUnit: await one(TAG.ResolutionUnit, 2),
    };
    if (first) {
      page.description = await text(TAG.ImageDescription);
      page.privateJson = await text(TAG.CcdriftMetadata);
    }
    pages.push(page);
    const nextPos = n * entrySize;
    ifdOffset = big ? getUint64(body, nextPos, le) : body.getUint32(nextPos, le);
  }
  return { littleEndian: le, bigTiff: big, pages, fileSize };
}
