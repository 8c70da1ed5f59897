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
 *
 * The code: `tiff/ifd.ts` (the file's pages and tags), `tiff/description.ts` (ImageJ and OME
 * descriptions), `tiff/pixels.ts` (pixel types), `tiff/layout.ts` (the stack and its voxel
 * size from those), `tiff/read.ts`, `tiff/write.ts`.
 */
import type { ImageFormat } from './formats.js';
import { readTiff } from './tiff/read.js';
import { writeTiffStack } from './tiff/write.js';

export { describeTiff } from './tiff/read.js';
export { imageJDescription, writeTiffStack } from './tiff/write.js';

export const tiffFormat: ImageFormat = {
  name: 'TIFF stack',
  extensions: ['.tif', '.tiff'],
  read: readTiff,
  write: (temporaryPaths, stack) => writeTiffStack(temporaryPaths[0], stack),
};
