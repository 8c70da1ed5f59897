/** TIFF pixel types: bits per sample and sample format ↔ the stack's dtype, and byte order. */
import { InputError } from '../../core/errors.js';
import type { ImageDtype } from '../../core/types.js';
import type { TiffPage } from './ifd.js';

const DTYPE_OF: Record<string, ImageDtype> = {
  '8,1': 'uint8',
  '16,1': 'uint16',
  '16,2': 'int16',
  '32,1': 'uint32',
  '32,2': 'int32',
  '32,3': 'float32',
  '64,3': 'float64',
};
export const BITS_FORMAT: Record<ImageDtype, [number, number]> = {
  uint8: [8, 1],
  uint16: [16, 1],
  int16: [16, 2],
  uint32: [32, 1],
  int32: [32, 2],
  float32: [32, 3],
  float64: [64, 3],
};

export function pageDtype(page: TiffPage, path: string, index: number): ImageDtype {
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

export function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}
