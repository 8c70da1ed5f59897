/**
 * TIFF image stacks (SPEC §2): multi-page 8/16/32-bit integer and float32/64 stacks, ImageJ
 * hyperstacks (T and Z from the ImageJ description, including ImageJ's single-IFD layout for
 * files over 4 GB), OME-TIFF (single file) and BigTIFF, read lazily: `readFrame(t)` reads just
 * the pages of time point t from disk, so memory stays bounded for stacks of any length.
 *
 * Uncompressed strips (what ImageJ, tifffile and most acquisition software write) are read
 * directly from the file; compressed or tiled pages are decoded by `geotiff`.
 *
 * Voxel size: ccdrift's own metadata tag, else ImageJ calibration (XResolution/YResolution in
 * pixels per `unit`, `spacing` for z) or OME PhysicalSize*, else the `voxelSizeNm` option, else
 * an InputError. A file calibration that disagrees with the option is an error too.
 *
 * Writing streams one time point at a time: classic TIFF, or BigTIFF past 4 GB, little-endian,
 * uncompressed, pixel data contiguous (as ImageJ expects for its hyperstacks), with an ImageJ
 * description (images, slices, frames, hyperstack, unit=micron, spacing) and resolution tags so
 * Fiji opens the stack with the right shape and calibration, plus the stack's metadata as JSON
 * in a private tag (65000) so ccdrift reads it back unchanged.
 */
import { writeFully } from './atomic.js';
import { checkAllocation, formatBytes } from '../core/memoryLimit.js';
import { open, type FileHandle } from 'node:fs/promises';
import { InputError, UsageError } from '../core/errors.js';
import type { ImageDtype, ImageStack, Metadata, NumericArray } from '../core/types.js';
import type { ImageFormat } from './formats.js';
import { formatNumber, nmPerUnit, parseImageJDescription, parseOmeDescription } from './tiff/description.js';
import { readTiffStructure, TAG, type TiffPage, type TiffStructure } from './tiff/ifd.js';
import { allocateImageArray } from '../core/image/allocateImageArray.js';

/** Relative difference above which a file's voxel size and the option's count as different. */
const VOXEL_MISMATCH_RTOL = 1e-3;
/** Classic TIFF offsets are 32-bit: switch to BigTIFF above this many bytes (with room for IFDs). */
const CLASSIC_TIFF_LIMIT = 2 ** 32 - 2 ** 24;

const DTYPE_OF: Record<string, ImageDtype> = {
  '8,1': 'uint8',
  '16,1': 'uint16',
  '16,2': 'int16',
  '32,1': 'uint32',
  '32,2': 'int32',
  '32,3': 'float32',
  '64,3': 'float64',
};
const BITS_FORMAT: Record<ImageDtype, [number, number]> = {
  uint8: [8, 1],
  uint16: [16, 1],
  int16: [16, 2],
  uint32: [32, 1],
  int32: [32, 2],
  float32: [32, 3],
  float64: [64, 3],
};


/** The stack's shape and page order as the file describes it. */
interface Layout {
  depth: number;
  frames: number;
  /** File page (after dropping thumbnails) of plane z of time point t. */
  pageOf(t: number, z: number): number;
  source: string;
  /** Voxel size the file states (nm), entries undefined when not stated. */
  voxelNm: [number | undefined, number | undefined, number | undefined];
}

function pageDtype(page: TiffPage, path: string, index: number): ImageDtype {
  if (page.samplesPerPixel !== 1) {
    throw new InputError(
      `${path}: page ${index} has ${page.samplesPerPixel} samples per pixel (RGB or multi-channel); ` +
        `ccdrift needs single-channel grey images: convert with Fiji (Image > Type > 16-bit or 32-bit) or split channels`,
    );
  }
  const dtype = DTYPE_OF[`${page.bitsPerSample},${page.sampleFormat}`];
  if (!dtype) {
    const kind = { 1: 'unsigned', 2: 'signed', 3: 'float' }[page.sampleFormat] ?? `sample format ${page.sampleFormat}`;
    throw new InputError(
      `${path}: ${page.bitsPerSample}-bit ${kind} pixels are not supported; expected 8/16/32-bit integers or 32/64-bit floats ` +
        `(convert with Fiji: Image > Type > 16-bit or 32-bit)`,
    );
  }
  return dtype;
}

function calibrationFromResolution(page: TiffPage, nmPer: number | null): [number | undefined, number | undefined] {
  if (nmPer === null) return [undefined, undefined];
  const px = (r: number | undefined) => (r && r > 0 && Number.isFinite(r) ? nmPer / r : undefined);
  return [px(page.xResolution), px(page.yResolution)];
}

function describeLayout(structure: TiffStructure, path: string): Layout {
  const pages = structure.pages;
  const first = pages[0];
  const n = pages.length;
  const ij = parseImageJDescription(first.description);
  const ome = ij ? null : parseOmeDescription(first.description);
  if (ij) {
    const channels = ij.channels ?? 1;
    if (channels > 1) {
      throw new InputError(
        `${path}: the ImageJ hyperstack has ${channels} channels; ccdrift registers one channel: split them in Fiji (Image > Color > Split Channels) and pass one`,
      );
    }
    const images = ij.images ?? n;
    let z = ij.slices ?? 1;
    let t = ij.frames ?? 1;
    if (z * t !== images) {
      z = 1;
      t = images;
    } else if (t === 1 && z > 1 && !ij.hyperstack) {
      // A plain ImageJ stack: its pages are a series; for drift correction that is time.
      t = z;
      z = 1;
    }
    const per = nmPerUnit(ij.unit);
    const [vx, vy] = calibrationFromResolution(first, per);
    const vz = per !== null && ij.spacing && ij.spacing > 0 ? ij.spacing * per : undefined;
    return { depth: z, frames: t, pageOf: (ti, zi) => ti * z + zi, source: 'ImageJ description', voxelNm: [vx, vy, vz] };
  }
  if (ome) {
    if (ome.sizeC > 1) {
      throw new InputError(`${path}: the OME-TIFF has ${ome.sizeC} channels; ccdrift registers one channel: save one channel as its own file`);
    }
    let { sizeZ: z, sizeT: t } = ome;
    if (z * t !== n) {
      z = 1;
      t = n;
    }
    const order = ome.dimensionOrder.toUpperCase();
    const zFirst = order.indexOf('Z') < order.indexOf('T');
    return {
      depth: z,
      frames: t,
      pageOf: zFirst ? (ti, zi) => ti * z + zi : (ti, zi) => zi * t + ti,
      source: 'OME-XML',
      voxelNm: ome.physicalNm,
    };
  }
  // Plain multi-page TIFF: pages are time points; resolution in cm is a calibration, inch is not.
  const [vx, vy] = calibrationFromResolution(first, first.resolutionUnit === 3 ? 1e7 : null);
  return { depth: 1, frames: n, pageOf: (ti) => ti, source: 'page count', voxelNm: [vx, vy, undefined] };
}

interface PrivateMetadata {
  voxelSizeNm?: [number, number, number];
  metadata?: Metadata;
}

function parsePrivate(json: string | undefined): PrivateMetadata | null {
  if (!json) return null;
  try {
    const v = JSON.parse(json) as PrivateMetadata;
    return typeof v === 'object' && v !== null ? v : null;
  } catch {
    return null;
  }
}

function resolveVoxelSize(
  stated: [number | undefined, number | undefined, number | undefined],
  option: [number, number, number] | undefined,
  depth: number,
  path: string,
  source: string,
): [number, number, number] {
  const [fx, fy, fz] = stated;
  if (option) {
    if (option.length !== 3 || !option.every((v) => v > 0 && Number.isFinite(v))) {
      throw new UsageError(`voxel size must be three positive numbers of nm (x,y,z), got ${option.join(',')}`);
    }
    const axes = depth > 1 ? [0, 1, 2] : [0, 1];
    for (const a of axes) {
      const f = stated[a];
      if (f !== undefined && Math.abs(f - option[a]) > VOXEL_MISMATCH_RTOL * Math.max(f, option[a])) {
        throw new InputError(
          `${path}: the file's ${source} gives a voxel size of ${stated.map((v) => (v === undefined ? '?' : displayNumber(v))).join(', ')} nm ` +
            `but ${option.join(', ')} nm was given; drop the voxel-size option to use the file's calibration, ` +
            `or fix the calibration in the file (Fiji: Image > Properties)`,
        );
      }
    }
  }
  const x = fx ?? option?.[0];
  const y = fy ?? fx ?? option?.[1];
  if (x === undefined || y === undefined) {
    throw new InputError(
      `${path}: the file states no pixel size (no ImageJ/OME calibration); give it in nm, e.g. --voxel-size 100,100,${depth > 1 ? 200 : 100} ` +
        `(or voxelSizeNm), or set it in Fiji (Image > Properties) and save again`,
    );
  }
  const z = fz ?? option?.[2];
  if (z === undefined && depth > 1) {
    throw new InputError(`${path}: the file states no z spacing for its ${depth}-plane volumes; give the voxel size in nm, e.g. --voxel-size ${formatNumber(x)},${formatNumber(y)},200`);
  }
  return [x, y, z ?? x];
}

/** Six significant digits: calibrations stored as rationals are not exact. */
function displayNumber(v: number): string {
  return String(Number(v.toPrecision(6)));
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/** Open for reading; a missing file is an InputError that names it. */
async function openTiff(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new InputError(`${path}: no such file`);
    throw err;
  }
}

/** Uncompressed, untiled pages are read straight from disk; others go through geotiff. */
function isDirect(page: TiffPage): boolean {
  return page.compression === 1 && !page.tiled && page.stripOffsets.length > 0;
}

async function readTiff(path: string, options: { voxelSizeNm?: [number, number, number] }): Promise<ImageStack> {
  const fh = await openTiff(path);
  let structure: TiffStructure;
  try {
    structure = await readTiffStructure(fh, path);
  } catch (err) {
    await fh.close();
    throw err;
  }
  await fh.close();
  const ifdIndex: number[] = [];
  const pages = structure.pages.filter((p, i) => {
    const keep = (p.newSubfileType & 1) === 0;
    if (keep) ifdIndex.push(i);
    return keep;
  });
  if (pages.length === 0) throw new InputError(`${path}: the TIFF has no full-resolution pages`);
  const first = pages[0];
  const dtype = pageDtype(first, path, 0);
  pages.forEach((p, i) => {
    if (p.width !== first.width || p.height !== first.height || pageDtype(p, path, i) !== dtype) {
      throw new InputError(
        `${path}: page ${i} is ${p.width}×${p.height} ${pageDtype(p, path, i)}, page 0 is ${first.width}×${first.height} ${dtype}; ` +
          `a stack needs pages of one size and type`,
      );
    }
  });
  const layout = describeLayout({ ...structure, pages }, path);
  const { width, height } = first;
  const bytesPer = BITS_FORMAT[dtype][0] / 8;
  const pageBytes = width * height * bytesPer;
  if (!(width >= 1 && height >= 1)) throw new InputError(`${path}: the TIFF declares pages of ${width} × ${height} pixels; a page needs at least one`);
  // Dimensions come from the file: a frame must fit in memory, and uncompressed pixel data in the file.
  checkAllocation(
    pageBytes * layout.depth,
    `one frame of ${path} (${width} × ${height}${layout.depth > 1 ? ` × ${layout.depth}` : ''} ${dtype} pixels, as the file declares)`,
    'is the file corrupt?',
  );
  if (pages.every(isDirect) && layout.frames * layout.depth * pageBytes > structure.fileSize) {
    throw new InputError(
      `${path}: the TIFF declares ${layout.frames * layout.depth} images of ${width} × ${height} ${dtype} pixels ` +
        `(${formatBytes(layout.frames * layout.depth * pageBytes)}), but the file holds only ${formatBytes(structure.fileSize)}: it is corrupt or truncated`,
    );
  }
  // ImageJ writes stacks over 4 GB with one IFD and contiguous pixel data.
  const needed = layout.depth * layout.frames;
  let contiguousStart = -1;
  if (pages.length < needed) {
    if (pages.length === 1 && isDirect(first) && first.stripOffsets[0] + needed * pageBytes <= structure.fileSize) {
      contiguousStart = first.stripOffsets[0];
    } else {
      throw new InputError(`${path}: the description announces ${needed} images but the file has ${pages.length} pages`);
    }
  }
  const priv = parsePrivate(first.privateJson);
  const stated = priv?.voxelSizeNm ?? layout.voxelNm;
  const voxelSizeNm = resolveVoxelSize(stated, options.voxelSizeNm, layout.depth, path, priv?.voxelSizeNm ? 'ccdrift metadata' : layout.source);
  const metadata: Metadata = { ...(priv?.metadata ?? {}) };
  if (!priv && first.description) metadata['tiff.ImageDescription'] = first.description;
  const { depth, frames } = layout;
  const le = structure.littleEndian;
  const nativeLittle = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
  let geotiff: Promise<{ getImage(i: number): Promise<{ readRasters(o: object): Promise<unknown> }> }> | undefined;

  const readPlane = async (fh: FileHandle, pageIndex: number, target: Uint8Array): Promise<void> => {
    if (contiguousStart >= 0) {
      await readFully(fh, target, contiguousStart + pageIndex * pageBytes, path);
    } else {
      const page = pages[pageIndex];
      if (isDirect(page)) {
        const rowBytes = width * bytesPer;
        for (let s = 0; s < page.stripOffsets.length; s++) {
          const row0 = s * page.rowsPerStrip;
          if (row0 >= height) break;
          const rows = Math.min(page.rowsPerStrip, height - row0);
          await readFully(fh, target.subarray(row0 * rowBytes, (row0 + rows) * rowBytes), page.stripOffsets[s], path);
        }
      } else {
        geotiff ??= import('geotiff').then((g) => g.fromFile(path) as never);
        let raster: NumericArray;
        try {
          const image = await (await geotiff).getImage(ifdIndex[pageIndex]);
          raster = (await image.readRasters({ interleave: true })) as NumericArray;
          if (raster.byteLength < pageBytes) throw new Error(`${raster.byteLength} bytes decoded, ${pageBytes} expected`);
        } catch (err) {
          // The decoder's own errors (RangeError, TypeError…) on a corrupt page.
          throw new InputError(`${path}: cannot decode page ${ifdIndex[pageIndex]} (compression ${page.compression}${page.tiled ? ', tiled' : ''}): ${(err as Error).message}; the file is corrupt or truncated`, { cause: err });
        }
        target.set(new Uint8Array(raster.buffer, raster.byteOffset, pageBytes));
        return; // geotiff returns native byte order
      }
    }
    if (le !== nativeLittle && bytesPer > 1) swapBytes(target, bytesPer);
  };

  return {
    width,
    height,
    depth,
    frames,
    dtype,
    voxelSizeNm,
    metadata,
    async readFrame(t: number) {
      if (!Number.isInteger(t) || t < 0 || t >= frames) throw new RangeError(`frame index ${t} is outside 0 … ${frames - 1}`);
      const out = allocateImageArray(dtype, width * height * depth);
      const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      const fh = await open(path, 'r');
      try {
        for (let z = 0; z < depth; z++) await readPlane(fh, layout.pageOf(t, z), bytes.subarray(z * pageBytes, (z + 1) * pageBytes));
      } finally {
        await fh.close();
      }
      return out;
    },
  };
}

async function readFully(fh: FileHandle, target: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await fh.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) throw new InputError(`${path}: truncated TIFF (pixel data at offset ${position} runs past the end of the file)`);
    done += bytesRead;
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

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
  if (needsBig && bigTiff === false) throw new UsageError(`the stack needs more than 4 GB (${nPages} pages of ${pageBytes} bytes): classic TIFF cannot hold it`);
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

/** A human-readable summary of a TIFF file for `ccdrift info`. */
export async function describeTiff(path: string): Promise<string> {
  const fh = await openTiff(path);
  let structure: TiffStructure;
  try {
    structure = await readTiffStructure(fh, path);
  } finally {
    await fh.close();
  }
  const pages = structure.pages.filter((p) => (p.newSubfileType & 1) === 0);
  const first = pages[0];
  const lines = [
    `${path}: ${structure.bigTiff ? 'BigTIFF' : 'TIFF'}, ${structure.littleEndian ? 'little' : 'big'}-endian, ${structure.pages.length} IFD${structure.pages.length === 1 ? '' : 's'}`,
  ];
  if (!first) return lines.join('\n');
  const compression = { 1: 'none', 5: 'LZW', 8: 'deflate', 32946: 'deflate', 32773: 'PackBits', 50000: 'zstd' }[first.compression] ?? `code ${first.compression}`;
  lines.push(
    `pages: ${first.width} × ${first.height}, ${first.bitsPerSample}-bit ${{ 1: 'unsigned', 2: 'signed', 3: 'float' }[first.sampleFormat] ?? '?'}, ` +
      `${first.samplesPerPixel} sample${first.samplesPerPixel === 1 ? '' : 's'}/pixel, compression ${compression}${first.tiled ? ', tiled' : ''}`,
  );
  try {
    const layout = describeLayout({ ...structure, pages }, path);
    const priv = parsePrivate(first.privateJson);
    const v = priv?.voxelSizeNm ?? layout.voxelNm;
    lines.push(`stack (from ${layout.source}): ${layout.frames} time point${layout.frames === 1 ? '' : 's'}${layout.depth > 1 ? ` × ${layout.depth} z planes` : ''}`);
    lines.push(`voxel size: ${v.map((x) => (x === undefined ? '?' : displayNumber(x))).join(' × ')} nm${v.some((x) => x === undefined) ? ' (? = not stated in the file)' : ''}`);
  } catch (err) {
    lines.push(`stack: ${(err as Error).message}`);
  }
  if (first.description) {
    const d = first.description.length > 400 ? `${first.description.slice(0, 400)}…` : first.description;
    lines.push(`description: ${d.replace(/\n/g, '\\n')}`);
  }
  return lines.join('\n');
}

export const tiffFormat: ImageFormat = {
  name: 'TIFF stack',
  extensions: ['.tif', '.tiff'],
  read: readTiff,
  write: (temporaryPaths, stack) => writeTiffStack(temporaryPaths[0], stack),
};
