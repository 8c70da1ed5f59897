/**
 * Sub-pixel translation of a frame (2D) or volume (3D) by a Fourier phase ramp after zero
 * padding (SPEC §4.5 Image_Post_Shift).
 *
 * Shift convention: `shiftPx` is how far the CONTENT moves, in pixels (x, y, z):
 *     out(x) ≈ in(x − shiftPx).
 * A drift trace holds the correction to add (core/types.ts), so correcting a frame whose
 * drift is d nm moves its content by +d / voxel pixels.
 *
 * Padding: `paddingMultiplier` × the frame size is added on every side of every axis longer
 * than one pixel (as the original's `padding_multipler`), so content leaving the frame falls
 * into zeros instead of wrapping round to the opposite edge, and is cropped away. The padded
 * length is then rounded up to a length PFFFT transforms (`fftSize`): more zeros, same result.
 *
 * Frame layout (core/types.ts): frame[(z * height + y) * width + x].
 */
import { checkPadding } from '../parameters.js';
import { checkAllocation } from '../memoryLimit.js';
import { fftSize, loadPffft, type PffftModule } from '../fft/pffft.js';
import { RealFftNd } from '../fft/realFftNd.js';
import type { NumericArray } from '../types.js';
import { param } from '../messageParams.js';

export interface FrameShape {
  width: number;
  height: number;
  /** z planes (1 for a 2D frame). */
  depth: number;
}

/**
 * Refuse (MemoryLimitError) a padding whose grid cannot fit: the padded grid and its spectrum,
 * float32 (the FFT rounds each axis up a little more). Callers may check before long work.
 */
export function checkFourierShiftMemory({ width, height, depth }: FrameShape, paddingMultiplier: number): void {
  const padded = [
    width + 2 * paddingFor(width, paddingMultiplier),
    height + 2 * paddingFor(height, paddingMultiplier),
    depth + 2 * paddingFor(depth, paddingMultiplier),
  ];
  checkAllocation(
    2 * 4 * padded[0] * padded[1] * padded[2],
    `the zero-padded frame for the Fourier shift (${padded.filter((_, a) => a < 2 || depth > 1).join(' × ')} px: a ` +
      `${width} × ${height}${depth > 1 ? ` × ${depth}` : ''} frame with ${param('paddingMultiplier')} ${paddingMultiplier} on every side)`,
    `give a smaller ${param('paddingMultiplier')} (the default is 1)`,
    'paddingMultiplier',
  );
}

/** Zero padding on each side of one axis, pixels (none for axes of length 1). */
export function paddingFor(length: number, paddingMultiplier: number): number {
  return length > 1 ? Math.ceil(paddingMultiplier * length) : 0;
}

/**
 * Reusable Fourier shifter for frames of one shape: holds the FFT plan and buffers, so
 * shifting a long stack frame by frame allocates nothing per frame (except the output, when
 * none is given).
 */
export class FourierShifter {
  readonly shape: FrameShape;
  readonly paddingMultiplier: number;
  /** Padding on the low side of x, y, z (pixels): where the frame sits in the FFT grid. */
  readonly offset: [number, number, number];
  readonly fft: RealFftNd;
  private readonly grid: Float32Array;
  private readonly spectrum: Float32Array;
  /** cos/sin of the phase ramp per axis, refilled for each shift. */
  private readonly rampX: Float64Array;
  private readonly rampY: Float64Array;
  private readonly rampZ: Float64Array;

  constructor(pffft: PffftModule, shape: FrameShape, paddingMultiplier: number) {
    const { width, height, depth } = shape;
    for (const [name, v] of [
      ['width', width],
      ['height', height],
      ['depth', depth],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`frame ${name} must be a whole number ≥ 1, got ${v}`);
    }
    checkPadding(paddingMultiplier);
    this.shape = { width, height, depth };
    this.paddingMultiplier = paddingMultiplier;
    const px = paddingFor(width, paddingMultiplier);
    const py = paddingFor(height, paddingMultiplier);
    const pz = paddingFor(depth, paddingMultiplier);
    this.offset = [px, py, pz];
    checkFourierShiftMemory(shape, paddingMultiplier);
    this.fft = new RealFftNd(pffft, {
      nx: fftSize(width + 2 * px, 'real'),
      ny: height > 1 ? fftSize(height + 2 * py, 'complex') : 1,
      nz: depth > 1 ? fftSize(depth + 2 * pz, 'complex') : 1,
    });
    this.grid = new Float32Array(this.fft.gridLength);
    this.spectrum = new Float32Array(this.fft.spectrumLength);
    this.rampX = new Float64Array(2 * this.fft.nxh);
    this.rampY = new Float64Array(2 * this.fft.ny);
    this.rampZ = new Float64Array(2 * this.fft.nz);
  }

  /** Release the WebAssembly memory. */
  dispose(): void {
    this.fft.dispose();
  }

  /**
   * Shift `frame` (width·height·depth values, any numeric type) so its content moves by
   * `shiftPx` pixels (x, y, z); returns float32 values in `out` (allocated when omitted).
   * The z shift is ignored for 2D frames.
   */
  shift(frame: NumericArray | Float32Array, shiftPx: readonly [number, number, number], out?: Float32Array): Float32Array {
    const { width, height, depth } = this.shape;
    const n = width * height * depth;
    if (frame.length !== n) throw new RangeError(`frame has ${frame.length} values, expected ${width}×${height}×${depth} = ${n}`);
    if (!shiftPx.every(Number.isFinite)) throw new RangeError(`shift must be finite, got (${shiftPx.join(', ')}) px`);
    const result = out ?? new Float32Array(n);
    if (result.length !== n) throw new RangeError(`output has ${result.length} values, expected ${n}`);
    const { nx, ny, nz, nxh } = this.fft;
    const [ox, oy, oz] = this.offset;
    const grid = this.grid;
    grid.fill(0);
    for (let z = 0; z < depth; z++) {
      for (let y = 0; y < height; y++) {
        const src = (z * height + y) * width;
        const dst = ((z + oz) * ny + y + oy) * nx + ox;
        for (let x = 0; x < width; x++) grid[dst + x] = frame[src + x];
      }
    }
    const spec = this.spectrum;
    this.fft.forward(grid, spec);
    fillRamp(this.rampX, nx, shiftPx[0], true);
    fillRamp(this.rampY, ny, ny > 1 ? shiftPx[1] : 0, false);
    fillRamp(this.rampZ, nz, nz > 1 ? shiftPx[2] : 0, false);
    const { rampX: ex, rampY: ey, rampZ: ez } = this;
    // Unscaled transforms: fold the 1/N of the inverse into the ramp.
    const scale = 1 / this.fft.gridLength;
    // A Nyquist bin is its own mirror image, so a real result keeps only the real part of
    // its phase factor: with the set of Nyquist axes of a bin, the factor becomes
    // (product over the other axes) · cos(π · Σ shifts along the Nyquist axes). This is
    // exactly Re(ifftn(fftn(g) · ramp)), i.e. what scipy.ndimage.fourier_shift followed by
    // a real part gives (the original's shift).
    const nyqY = ny > 1 ? ny / 2 : -1;
    const nyqZ = nz > 1 ? nz / 2 : -1;
    for (let kx = 0; kx < nxh; kx++) {
      const isNyqX = kx === nx / 2;
      const xr = isNyqX ? 1 : ex[2 * kx];
      const xi = isNyqX ? 0 : ex[2 * kx + 1];
      for (let kz = 0; kz < nz; kz++) {
        const isNyqZ = kz === nyqZ;
        const zr = isNyqZ ? 1 : ez[2 * kz];
        const zi = isNyqZ ? 0 : ez[2 * kz + 1];
        const nyqShift = (isNyqX ? shiftPx[0] : 0) + (isNyqZ ? shiftPx[2] : 0);
        const c = Math.cos(Math.PI * nyqShift) * scale;
        const axr = (xr * zr - xi * zi) * c;
        const axi = (xr * zi + xi * zr) * c;
        let i = 2 * (kx * nz + kz) * ny;
        for (let ky = 0; ky < ny; ky++, i += 2) {
          let fr: number;
          let fi: number;
          if (ky === nyqY) {
            const cy = Math.cos(Math.PI * (nyqShift + shiftPx[1])) * scale;
            fr = (xr * zr - xi * zi) * cy;
            fi = (xr * zi + xi * zr) * cy;
          } else {
            fr = axr * ey[2 * ky] - axi * ey[2 * ky + 1];
            fi = axr * ey[2 * ky + 1] + axi * ey[2 * ky];
          }
          const re = spec[i];
          const im = spec[i + 1];
          spec[i] = re * fr - im * fi;
          spec[i + 1] = re * fi + im * fr;
        }
      }
    }
    // Only the rows of the frame are needed back.
    this.fft.inverse(spec, grid, { y0: oy, y1: oy + height, z0: oz, z1: oz + depth });
    for (let z = 0; z < depth; z++) {
      for (let y = 0; y < height; y++) {
        const src = ((z + oz) * ny + y + oy) * nx + ox;
        const dst = (z * height + y) * width;
        for (let x = 0; x < width; x++) result[dst + x] = grid[src + x];
      }
    }
    return result;
  }
}

/**
 * exp(−2πi·f·s) per frequency bin of an axis of FFT length `n`, as interleaved cos/sin.
 * Complex axes use FFT order (upper half negative, as numpy.fft.fftfreq); the real (x) axis
 * holds bins 0 … n/2 (Nyquist bins are special-cased by the caller).
 */
function fillRamp(ramp: Float64Array, n: number, shift: number, realAxis: boolean): void {
  const bins = realAxis && n > 1 ? n / 2 + 1 : n;
  for (let k = 0; k < bins; k++) {
    const f = k < n / 2 ? k / n : (k - n) / n;
    const phase = -2 * Math.PI * f * shift;
    ramp[2 * k] = Math.cos(phase);
    ramp[2 * k + 1] = Math.sin(phase);
  }
}

/** A shifter for frames of `shape`, on this thread's PFFFT instance. */
export async function createFourierShifter(shape: FrameShape, paddingMultiplier: number): Promise<FourierShifter> {
  return new FourierShifter(await loadPffft(), shape, paddingMultiplier);
}

/**
 * Shift one frame (convenience for single frames; use `createFourierShifter` for stacks).
 * Content moves by `shiftPx` (x, y, z) pixels; returns float32 values of the same layout.
 */
export async function shiftFrame(
  frame: NumericArray,
  width: number,
  height: number,
  depth: number,
  shiftPx: readonly [number, number, number],
  paddingMultiplier: number,
): Promise<Float32Array> {
  const shifter = await createFourierShifter({ width, height, depth }, paddingMultiplier);
  try {
    return shifter.shift(frame, shiftPx);
  } finally {
    shifter.dispose();
  }
}
