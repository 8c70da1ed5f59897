/**
 * A TIFF's stack as its pages and descriptions state it: depth, time points, the page of each
 * plane, and the voxel size (ccdrift's private tag, ImageJ calibration or OME PhysicalSize*,
 * checked against the `voxelSizeNm` option).
 */
import { param } from '../../core/messageParams.js';
import { InputError, UsageError } from '../../core/errors.js';
import type { Metadata } from '../../core/types.js';
import { formatNumber, nmPerUnit, parseImageJDescription, parseOmeDescription } from './description.js';
import type { TiffPage, TiffStructure } from './ifd.js';

/** Relative difference above which a file's voxel size and the option's count as different. */
const VOXEL_MISMATCH_RTOL = 1e-3;

/** The stack's shape and page order as the file describes it. */
export interface Layout {
  depth: number;
  frames: number;
  /** File page (after dropping thumbnails) of plane z of time point t. */
  pageOf(t: number, z: number): number;
  source: string;
  /** Voxel size the file states (nm), entries undefined when not stated. */
  voxelNm: [number | undefined, number | undefined, number | undefined];
}

function calibrationFromResolution(page: TiffPage, nmPer: number | null): [number | undefined, number | undefined] {
  if (nmPer === null) return [undefined, undefined];
  const px = (r: number | undefined) => (r && r > 0 && Number.isFinite(r) ? nmPer / r : undefined);
  return [px(page.xResolution), px(page.yResolution)];
}

export function describeLayout(structure: TiffStructure, path: string): Layout {
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

export interface PrivateMetadata {
  voxelSizeNm?: [number, number, number];
  metadata?: Metadata;
}

export function parsePrivate(json: string | undefined): PrivateMetadata | null {
  if (!json) return null;
  try {
    const v = JSON.parse(json) as PrivateMetadata;
    return typeof v === 'object' && v !== null ? v : null;
  } catch {
    return null;
  }
}

export function resolveVoxelSize(
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
      `${path}: the file states no pixel size (no ImageJ/OME calibration); give it in nm, e.g. ${param('voxelSizeNm')} 100,100,${depth > 1 ? 200 : 100}, ` +
        `or set it in Fiji (Image > Properties) and save again`,
    );
  }
  const z = fz ?? option?.[2];
  if (z === undefined && depth > 1) {
    throw new InputError(
      `${path}: the file states no z spacing for its ${depth}-plane volumes; give the voxel size in nm, e.g. ${param('voxelSizeNm')} ${formatNumber(x)},${formatNumber(y)},200`,
    );
  }
  return [x, y, z ?? x];
}

/** Six significant digits: calibrations stored as rationals are not exact. */
export function displayNumber(v: number): string {
  return String(Number(v.toPrecision(6)));
}
