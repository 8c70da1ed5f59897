/**
 * A greyscale 8-bit PNG encoder (one IDAT, zlib by fflate), for the report's inline images. No
 * `node:` imports: the browser app can build the same report.
 */
import { zlibSync } from 'fflate';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** PNG bytes of a width × height greyscale image (row-major, values 0–255). */
export function encodeGreyPng(pixels: Uint8Array, width: number, height: number): Uint8Array {
  if (pixels.length !== width * height) throw new RangeError(`PNG: ${pixels.length} pixels for ${width}×${height}`);
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const parts = [Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10), chunk('IHDR', header), chunk('IDAT', zlibSync(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * An image scaled to 0–255 for display: 0 at `lo`, 255 at `hi` (values beyond are clipped),
 * with a gamma (< 1 brightens faint structure).
 */
export function toGrey(image: ArrayLike<number>, lo: number, hi: number, gamma = 1): Uint8Array {
  const out = new Uint8Array(image.length);
  const span = hi > lo ? hi - lo : 1;
  for (let i = 0; i < image.length; i++) {
    const v = Math.min(1, Math.max(0, (image[i] - lo) / span));
    out[i] = Math.round(255 * v ** gamma);
  }
  return out;
}

/** The value below which `fraction` of the finite values lie (for display limits). */
export function percentile(image: ArrayLike<number>, fraction: number): number {
  const v = Array.from(image)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (v.length === 0) return 0;
  return v[Math.min(v.length - 1, Math.max(0, Math.floor(fraction * (v.length - 1))))];
}
