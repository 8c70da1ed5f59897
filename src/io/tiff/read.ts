/** Reading a TIFF stack lazily, frame by frame, and describing a TIFF file (see `../tiff.ts`). */
import { open, type FileHandle } from 'node:fs/promises';
import { InputError } from '../../core/errors.js';
import { allocateImageArray } from '../../core/image/allocateImageArray.js';
import { checkAllocation, formatBytes } from '../../core/memoryLimit.js';
import type { ImageStack, Metadata, NumericArray } from '../../core/types.js';
import { readTiffStructure, type TiffPage, type TiffStructure } from './ifd.js';
import { describeLayout, displayNumber, parsePrivate, resolveVoxelSize } from './layout.js';
import { BITS_FORMAT, pageDtype, swapBytes } from './pixels.js';

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

/** A TIFF stack: its shape, dtype, voxel size and metadata now, each time point's pages when `readFrame` asks. */
export async function readTiff(path: string, options: { voxelSizeNm?: [number, number, number] }): Promise<ImageStack> {
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
          throw new InputError(
            `${path}: cannot decode page ${ifdIndex[pageIndex]} (compression ${page.compression}${page.tiled ? ', tiled' : ''}): ${(err as Error).message}; the file is corrupt or truncated`,
            { cause: err },
          );
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
  const compression =
    { 1: 'none', 5: 'LZW', 8: 'deflate', 32946: 'deflate', 32773: 'PackBits', 50000: 'zstd' }[first.compression] ?? `code ${first.compression}`;
  lines.push(
    `pages: ${first.width} × ${first.height}, ${first.bitsPerSample}-bit ${{ 1: 'unsigned', 2: 'signed', 3: 'float' }[first.sampleFormat] ?? '?'}, ` +
      `${first.samplesPerPixel} sample${first.samplesPerPixel === 1 ? '' : 's'}/pixel, compression ${compression}${first.tiled ? ', tiled' : ''}`,
  );
  try {
    const layout = describeLayout({ ...structure, pages }, path);
    const priv = parsePrivate(first.privateJson);
    const v = priv?.voxelSizeNm ?? layout.voxelNm;
    lines.push(
      `stack (from ${layout.source}): ${layout.frames} time point${layout.frames === 1 ? '' : 's'}${layout.depth > 1 ? ` × ${layout.depth} z planes` : ''}`,
    );
    lines.push(
      `voxel size: ${v.map((x) => (x === undefined ? '?' : displayNumber(x))).join(' × ')} nm${v.some((x) => x === undefined) ? ' (? = not stated in the file)' : ''}`,
    );
  } catch (err) {
    lines.push(`stack: ${(err as Error).message}`);
  }
  if (first.description) {
    const d = first.description.length > 400 ? `${first.description.slice(0, 400)}…` : first.description;
    lines.push(`description: ${d.replace(/\n/g, '\\n')}`);
  }
  return lines.join('\n');
}
