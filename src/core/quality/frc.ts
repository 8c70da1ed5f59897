/**
 * Fourier ring correlation (Nieuwenhuizen et al., Nat. Methods 10:557, 2013,
 * doi:10.1038/nmeth.2448; Banterle et al., J. Struct. Biol. 183:363, 2013): the correlation of
 * two independent images of the same structure ring by ring in spatial frequency; the
 * resolution is 1 / the frequency where it falls below 1/7. For drift it compares halves of the
 * data taken in alternating time blocks, before and after correction.
 */
import { UsageError } from '../errors.js';

/** The FRC threshold of Nieuwenhuizen et al. */
export const FRC_THRESHOLD = 1 / 7;
/** Rings averaged on each side when smoothing the curve before looking for the crossing. */
const SMOOTH_RINGS = 2;

export interface FrcResult {
  /** Spatial frequency of each ring (1/nm) and its correlation. */
  frequencyPerNm: Float64Array;
  correlation: Float64Array;
  /** 1 / the first frequency where the smoothed curve falls below FRC_THRESHOLD; null when it never does. */
  resolutionNm: number | null;
}

/** In-place radix-2 complex FFT of `n` values (n a power of two) at stride 1. */
function fft1d(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b] * cr - im[b] * ci;
        const ti = re[b] * ci + im[b] * cr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
        const nr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = nr;
      }
    }
  }
}

/** 2D FFT of a real n × n image (row-major), returned as (re, im). */
export function fft2dReal(image: Float64Array, n: number): { re: Float64Array; im: Float64Array } {
  const re = Float64Array.from(image);
  const im = new Float64Array(n * n);
  const rr = new Float64Array(n);
  const ri = new Float64Array(n);
  for (let y = 0; y < n; y++) {
    rr.set(re.subarray(y * n, y * n + n));
    ri.set(im.subarray(y * n, y * n + n));
    fft1d(rr, ri);
    re.set(rr, y * n);
    im.set(ri, y * n);
  }
  for (let x = 0; x < n; x++) {
    for (let y = 0; y < n; y++) {
      rr[y] = re[y * n + x];
      ri[y] = im[y * n + x];
    }
    fft1d(rr, ri);
    for (let y = 0; y < n; y++) {
      re[y * n + x] = rr[y];
      im[y * n + x] = ri[y];
    }
  }
  return { re, im };
}

/**
 * FRC of two n × n images (n a power of two) of `pixelNm` pixels. Both are multiplied by a
 * Tukey window (shape 0.25) first, so the edges do not correlate.
 */
export function fourierRingCorrelation(a: Float64Array, b: Float64Array, n: number, pixelNm: number): FrcResult {
  if (!(n >= 8 && (n & (n - 1)) === 0)) throw new UsageError(`FRC images must be a power of two wide (≥ 8), got ${n}`);
  if (a.length !== n * n || b.length !== n * n) throw new UsageError(`FRC images must hold ${n}×${n} values`);
  const w = tukey(n, 0.25);
  const wa = new Float64Array(n * n);
  const wb = new Float64Array(n * n);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      const k = w[x] * w[y];
      wa[y * n + x] = a[y * n + x] * k;
      wb[y * n + x] = b[y * n + x] * k;
    }
  const fa = fft2dReal(wa, n);
  const fb = fft2dReal(wb, n);
  const rings = n / 2;
  const num = new Float64Array(rings);
  const pa = new Float64Array(rings);
  const pb = new Float64Array(rings);
  for (let y = 0; y < n; y++) {
    const ky = y < n / 2 ? y : y - n;
    for (let x = 0; x < n; x++) {
      const kx = x < n / 2 ? x : x - n;
      const r = Math.round(Math.hypot(kx, ky));
      if (r >= rings) continue;
      const i = y * n + x;
      num[r] += fa.re[i] * fb.re[i] + fa.im[i] * fb.im[i];
      pa[r] += fa.re[i] ** 2 + fa.im[i] ** 2;
      pb[r] += fb.re[i] ** 2 + fb.im[i] ** 2;
    }
  }
  const correlation = Float64Array.from(num, (v, r) => (pa[r] > 0 && pb[r] > 0 ? v / Math.sqrt(pa[r] * pb[r]) : 0));
  const frequencyPerNm = Float64Array.from({ length: rings }, (_, r) => r / (n * pixelNm));
  let resolutionNm: number | null = null;
  for (let r = 1; r < rings; r++) {
    let s = 0;
    let c = 0;
    for (let q = Math.max(1, r - SMOOTH_RINGS); q <= Math.min(rings - 1, r + SMOOTH_RINGS); q++) {
      s += correlation[q];
      c++;
    }
    if (s / c < FRC_THRESHOLD) {
      resolutionNm = 1 / frequencyPerNm[r];
      break;
    }
  }
  return { frequencyPerNm, correlation, resolutionNm };
}

function tukey(n: number, shape: number): Float64Array {
  const w = new Float64Array(n).fill(1);
  const edge = (shape * (n - 1)) / 2;
  for (let i = 0; i < n; i++) {
    const d = Math.min(i, n - 1 - i);
    if (d < edge) w[i] = 0.5 * (1 - Math.cos((Math.PI * d) / edge));
  }
  return w;
}

/**
 * Localizations rendered as a histogram of `n` × `n` pixels of `pixelNm` from (x0, y0) (row-major,
 * y down), counting rows i where keep(i) is true (all when omitted).
 */
export function renderLocalizations(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  x0: number,
  y0: number,
  pixelNm: number,
  n: number,
  keep?: (i: number) => boolean,
): Float64Array {
  const img = new Float64Array(n * n);
  for (let i = 0; i < x.length; i++) {
    if (keep && !keep(i)) continue;
    const px = Math.floor((x[i] - x0) / pixelNm);
    const py = Math.floor((y[i] - y0) / pixelNm);
    if (px >= 0 && py >= 0 && px < n && py < n) img[py * n + px]++;
  }
  return img;
}
