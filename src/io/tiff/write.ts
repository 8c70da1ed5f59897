/** Writing a TIFF stack, one time point at a time, as an ImageJ hyperstack (see `../tiff.ts`). */
import { open } from 'node:fs/promises';
import { InputError, UsageError } from '../../core/errors.js';
import { allocateImageArray } from '../../core/image/allocateImageArray.js';
import type { ImageDtype, ImageStack, NumericArray } from '../../core/types.js';
import { writeFully } from '../atomic.js';
import { formatNumber } from './description.js';
import { TAG } from './ifd.js';
import { BITS_FORMAT, swapBytes } from './pixels.js';

/** Classic TIFF offsets are 32-bit: switch to BigTIFF above this many bytes (with room for IFDs). */
const CLASSIC_TIFF_LIMIT = 2 ** 32 - 2 ** 24;

interface IfdField {
  tag: number;
  type: number;
  values: number[] | Uint8Array;
}

/** A rational close to `v` with numerator and denominator below 2^32. */
function rational(v: number): [number, number] {
  let den = 1;
  while (den < 1e9 && Math.abs(Math.round(v * den * 10)) < 2 ** 32 - 1 && Math.round(v * den) !== v * den) den *= 10;
  const num = Math.min(2 ** 32 - 1, Math.round(v * den));
  return [num, den];
}

/** Serialize one IFD at `offset` (values that do not fit inline follow the entries). */
function encodeIfd(fields: IfdField[], offset: number, nextIfd: number, big: boolean): Buffer {
  const entrySize = big ? 20 : 12;
  const inlineSize = big ? 8 : 4;
  const countSize = big ? 8 : 2;
  const headerSize = countSize + fields.length * entrySize + (big ? 8 : 4);
  const sizeOf: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 16: 8 };
  let extra = 0;
  for (const f of fields) {
    const bytes = sizeOf[f.type] * (f.type === 5 ? f.values.length / 2 : f.values.length);
    if (bytes > inlineSize) extra += bytes + (bytes % 2);
  }
  const buf = Buffer.alloc(headerSize + extra);
  let pos = 0;
  if (big) buf.writeBigUInt64LE(BigInt(fields.length), 0);
  else buf.writeUInt16LE(fields.length, 0);
  pos = countSize;
  let valuePos = headerSize;
  const writeValues = (target: Buffer, at: number, f: IfdField) => {
    const v = f.values;
    for (let i = 0; i < v.length; i++) {
      switch (f.type) {
        case 1:
        case 2:
        case 7:
          target.writeUInt8(v[i], at + i);
          break;
        case 3:
          target.writeUInt16LE(v[i], at + 2 * i);
          break;
        case 4:
        case 5:
          target.writeUInt32LE(v[i], at + 4 * i);
          break;
        case 16:
          target.writeBigUInt64LE(BigInt(v[i]), at + 8 * i);
          break;
      }
    }
  };
  for (const f of [...fields].sort((a, b) => a.tag - b.tag)) {
    const count = f.type === 5 ? f.values.length / 2 : f.values.length;
    const bytes = sizeOf[f.type] * count;
    buf.writeUInt16LE(f.tag, pos);
    buf.writeUInt16LE(f.type, pos + 2);
    if (big) buf.writeBigUInt64LE(BigInt(count), pos + 4);
    else buf.writeUInt32LE(count, pos + 4);
    const vpos = pos + 4 + (big ? 8 : 4);
    if (bytes <= inlineSize) {
      writeValues(buf, vpos, f);
    } else {
      if (big) buf.writeBigUInt64LE(BigInt(offset + valuePos), vpos);
      else buf.writeUInt32LE(offset + valuePos, vpos);
      writeValues(buf, valuePos, f);
      valuePos += bytes + (bytes % 2);
    }
    pos += entrySize;
  }
  if (big) buf.writeBigUInt64LE(BigInt(nextIfd), pos);
  else buf.writeUInt32LE(nextIfd, pos);
  return buf;
}

/** The ImageJ description for a stack: Fiji opens it as a T (and Z) hyperstack in microns. */
export function imageJDescription(stack: Pick<ImageStack, 'depth' | 'frames' | 'voxelSizeNm'>): string {
  const lines = ['ImageJ=1.11a', `images=${stack.depth * stack.frames}`];
  if (stack.depth > 1) lines.push(`slices=${stack.depth}`);
  lines.push(`frames=${stack.frames}`);
  if (stack.depth > 1) lines.push('hyperstack=true');
  lines.push('unit=micron');
  if (stack.depth > 1) lines.push(`spacing=${formatNumber(stack.voxelSizeNm[2] / 1000)}`);
  lines.push('loop=false');
  return lines.join('\n') + '\n';
}

function toDtype(frame: NumericArray, dtype: ImageDtype): NumericArray {
  const target = allocateImageArray(dtype, 0);
  if (frame.constructor === target.constructor) return frame;
  const out = allocateImageArray(dtype, frame.length);
  const integer = !dtype.startsWith('float');
  for (let i = 0; i < frame.length; i++) out[i] = integer ? Math.round(frame[i]) : frame[i];
  return out;
}

/**
 * Stream `stack` to a TIFF file at `path` (no atomic rename: `tiffFormat.write` is called with a
 * temporary path by the I/O layer). `bigTiff` forces (true) or forbids (false) BigTIFF; by
 * default it is used only when the file would pass 4 GB.
 */
export async function writeTiffStack(path: string, stack: ImageStack, { bigTiff }: { bigTiff?: boolean } = {}): Promise<void> {
  const { width, height, depth, frames, dtype } = stack;
  if (!BITS_FORMAT[dtype]) throw new UsageError(`cannot write ${String(dtype)} pixels to TIFF`);
  const [bits, sampleFormat] = BITS_FORMAT[dtype];
  const pageBytes = width * height * (bits / 8);
  const nPages = depth * frames;
  if (nPages === 0) throw new UsageError('refusing to write an empty stack (0 frames)');
  const description = Buffer.from(imageJDescription(stack) + '\0', 'utf8');
  const json = Buffer.from(JSON.stringify({ voxelSizeNm: stack.voxelSizeNm, metadata: stack.metadata }) + '\0', 'utf8');
  const needsBig = nPages * pageBytes + json.length + description.length + nPages * 400 > CLASSIC_TIFF_LIMIT;
  if (needsBig && bigTiff === false)
    throw new UsageError(`the stack needs more than 4 GB (${nPages} pages of ${pageBytes} bytes): classic TIFF cannot hold it`);
  const big = bigTiff ?? needsBig;
  const offsetType = big ? 16 : 4;
  const [xr, xd] = rational(1000 / stack.voxelSizeNm[0]);
  const [yr, yd] = rational(1000 / stack.voxelSizeNm[1]);
  const fieldsFor = (page: number, dataOffset: number): IfdField[] => {
    const fields: IfdField[] = [
      { tag: TAG.NewSubfileType, type: 4, values: [0] },
      { tag: TAG.ImageWidth, type: 4, values: [width] },
      { tag: TAG.ImageLength, type: 4, values: [height] },
      { tag: TAG.BitsPerSample, type: 3, values: [bits] },
      { tag: TAG.Compression, type: 3, values: [1] },
      { tag: TAG.Photometric, type: 3, values: [1] },
      { tag: TAG.StripOffsets, type: offsetType, values: [dataOffset] },
      { tag: TAG.SamplesPerPixel, type: 3, values: [1] },
      { tag: TAG.RowsPerStrip, type: 4, values: [height] },
      { tag: TAG.StripByteCounts, type: offsetType, values: [pageBytes] },
      { tag: TAG.XResolution, type: 5, values: [xr, xd] },
      { tag: TAG.YResolution, type: 5, values: [yr, yd] },
      { tag: TAG.ResolutionUnit, type: 3, values: [1] },
      { tag: TAG.SampleFormat, type: 3, values: [sampleFormat] },
    ];
    if (page === 0) {
      fields.push({ tag: TAG.ImageDescription, type: 2, values: description });
      fields.push({ tag: TAG.CcdriftMetadata, type: 2, values: json });
    }
    return fields;
  };
  // Layout: header | IFD 0 | pixel data of every page, contiguous | IFD 1 … IFD n−1.
  const headerSize = big ? 16 : 8;
  const ifd0Size = encodeIfd(fieldsFor(0, 0), headerSize, 0, big).length;
  const dataStart = headerSize + ifd0Size + ((headerSize + ifd0Size) % 16 ? 16 - ((headerSize + ifd0Size) % 16) : 0);
  const ifdSize = encodeIfd(fieldsFor(1, 0), 0, 0, big).length;
  // IFDs must start on a word boundary (odd-sized 8-bit pages would break that).
  const tailStart = Math.ceil((dataStart + nPages * pageBytes) / 8) * 8;
  const ifdOffset = (page: number) => (page === 0 ? headerSize : tailStart + (page - 1) * ifdSize);
  const nextOf = (page: number) => (page + 1 < nPages ? ifdOffset(page + 1) : 0);

  const fh = await open(path, 'w');
  try {
    const header = Buffer.alloc(headerSize);
    header.write('II', 0, 'latin1');
    if (big) {
      header.writeUInt16LE(43, 2);
      header.writeUInt16LE(8, 4);
      header.writeUInt16LE(0, 6);
      header.writeBigUInt64LE(BigInt(headerSize), 8);
    } else {
      header.writeUInt16LE(42, 2);
      header.writeUInt32LE(headerSize, 4);
    }
    await writeFully(fh, header.subarray(0, headerSize), 0);
    await writeFully(fh, encodeIfd(fieldsFor(0, dataStart), headerSize, nextOf(0), big), headerSize);
    const nativeLittle = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
    for (let t = 0; t < frames; t++) {
      const frame = toDtype(await stack.readFrame(t), dtype);
      if (frame.length !== width * height * depth) {
        throw new InputError(`frame ${t} has ${frame.length} values, expected ${width}×${height}×${depth}`);
      }
      let bytes = new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
      if (!nativeLittle && bits > 8) {
        bytes = Uint8Array.from(bytes);
        swapBytes(bytes, bits / 8);
      }
      await writeFully(fh, bytes, dataStart + t * depth * pageBytes);
    }
    // Trailing IFDs, written in chunks to keep memory small.
    const CHUNK = 4096;
    for (let p0 = 1; p0 < nPages; p0 += CHUNK) {
      const bufs: Buffer[] = [];
      for (let p = p0; p < Math.min(nPages, p0 + CHUNK); p++) bufs.push(encodeIfd(fieldsFor(p, dataStart + p * pageBytes), ifdOffset(p), nextOf(p), big));
      const chunk = Buffer.concat(bufs);
      await writeFully(fh, chunk, ifdOffset(p0));
    }
  } finally {
    await fh.close();
  }
}
