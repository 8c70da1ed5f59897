/**
 * Real-to-complex FFT of 1-, 2- and 3-D float32 grids on PFFFT, with a pruned inverse.
 *
 * Real grid layout (x fastest, see core/types.ts): grid[(z * ny + y) * nx + x].
 * Spectrum layout (transposed so the y and z passes read contiguous memory, and so the
 * inverse can skip output rows nobody needs):
 *     spectrum[2 * ((kx * nz + kz) * ny + ky)] = Re,  [… + 1] = Im,   kx = 0 … nx/2,
 * with ky, kz in FFT order (0 … n−1, negative frequencies in the upper half).
 * Transforms are unscaled: inverse(forward(g)) = nx·ny·nz·g.
 */
import { PFFFT_BACKWARD, PFFFT_COMPLEX, PFFFT_FORWARD, PFFFT_REAL, type PffftModule } from './pffft.js';

/** Rows transposed per block: large enough for cache-friendly scatter, small enough for L1/L2. */
const BLOCK_ROWS = 16;

export interface GridShape {
  nx: number;
  ny: number;
  nz: number;
}

/** Output rows an inverse must produce: y in [y0, y1), z in [z0, z1). */
export interface RowRange {
  y0: number;
  y1: number;
  z0: number;
  z1: number;
}

export class RealFftNd {
  readonly nx: number;
  readonly ny: number;
  readonly nz: number;
  /** Number of complex bins along x: nx/2 + 1. */
  readonly nxh: number;
  /** Floats in one spectrum: 2 · nxh · ny · nz. */
  readonly spectrumLength: number;
  /** Floats in one real grid: nx · ny · nz. */
  readonly gridLength: number;

  private readonly m: PffftModule;
  private readonly setupX: number;
  private readonly setupY: number;
  private readonly setupZ: number;
  private readonly inPtr: number;
  private readonly outPtr: number;
  private readonly workPtr: number;
  private readonly block: Float32Array;

  constructor(pffft: PffftModule, { nx, ny, nz }: GridShape) {
    if (nx % 32 !== 0) throw new RangeError(`FFT x length ${nx} must be a multiple of 32 (use fftSize)`);
    if (ny > 1 && ny % 16 !== 0) throw new RangeError(`FFT y length ${ny} must be 1 or a multiple of 16`);
    if (nz > 1 && nz % 16 !== 0) throw new RangeError(`FFT z length ${nz} must be 1 or a multiple of 16`);
    this.m = pffft;
    this.nx = nx;
    this.ny = ny;
    this.nz = nz;
    this.nxh = nx / 2 + 1;
    this.spectrumLength = 2 * this.nxh * ny * nz;
    this.gridLength = nx * ny * nz;
    this.setupX = pffft._pffft_new_setup(nx, PFFFT_REAL);
    this.setupY = ny > 1 ? pffft._pffft_new_setup(ny, PFFFT_COMPLEX) : 0;
    this.setupZ = nz > 1 ? pffft._pffft_new_setup(nz, PFFFT_COMPLEX) : 0;
    const maxFloats = Math.max(nx + 2, 2 * ny, 2 * nz);
    this.inPtr = pffft._pffft_aligned_malloc(maxFloats * 4);
    this.outPtr = pffft._pffft_aligned_malloc(maxFloats * 4);
    this.workPtr = pffft._pffft_aligned_malloc(maxFloats * 4);
    this.block = new Float32Array(BLOCK_ROWS * (nx + 2));
  }

  /** Release the WebAssembly memory. The object is unusable afterwards. */
  dispose(): void {
    const m = this.m;
    m._pffft_destroy_setup(this.setupX);
    if (this.setupY) m._pffft_destroy_setup(this.setupY);
    if (this.setupZ) m._pffft_destroy_setup(this.setupZ);
    m._pffft_aligned_free(this.inPtr);
    m._pffft_aligned_free(this.outPtr);
    m._pffft_aligned_free(this.workPtr);
  }

  /** Forward transform of `grid` (gridLength floats) into `spectrum` (spectrumLength floats). */
  forward(grid: Float32Array, spectrum: Float32Array): void {
    const { nx, ny, nz, nxh, m } = this;
    const inIdx = this.inPtr >> 2;
    const outIdx = this.outPtr >> 2;
    const block = this.block;
    const rowStride = nx + 2;
    // Pass 1: real FFT of every x row, transposed into spectrum[kx][z][y] in blocks of rows.
    for (let z = 0; z < nz; z++) {
      for (let y0 = 0; y0 < ny; y0 += BLOCK_ROWS) {
        const rows = Math.min(BLOCK_ROWS, ny - y0);
        for (let r = 0; r < rows; r++) {
          const src = (z * ny + y0 + r) * nx;
          const heap = m.HEAPF32;
          heap.set(grid.subarray(src, src + nx), inIdx);
          m._pffft_transform_ordered(this.setupX, this.inPtr, this.outPtr, this.workPtr, PFFFT_FORWARD);
          // PFFFT's ordered real output packs DC and Nyquist into out[0], out[1].
          const o = block.subarray(r * rowStride, r * rowStride + rowStride);
          const h = m.HEAPF32;
          o.set(h.subarray(outIdx, outIdx + nx));
          o[nx] = o[1];
          o[nx + 1] = 0;
          o[1] = 0;
        }
        for (let kx = 0; kx < nxh; kx++) {
          let dst = 2 * ((kx * nz + z) * ny + y0);
          for (let r = 0; r < rows; r++, dst += 2) {
            spectrum[dst] = block[r * rowStride + 2 * kx];
            spectrum[dst + 1] = block[r * rowStride + 2 * kx + 1];
          }
        }
      }
    }
    // Pass 2: complex FFT along y (contiguous).
    if (ny > 1) {
      for (let line = 0; line < nxh * nz; line++) this.transformContiguous(spectrum, line * 2 * ny, ny, this.setupY, PFFFT_FORWARD);
    }
    // Pass 3: complex FFT along z (stride 2·ny).
    if (nz > 1) {
      for (let kx = 0; kx < nxh; kx++) this.transformZ(spectrum, kx, 0, ny, PFFFT_FORWARD);
    }
  }

  /**
   * Inverse transform. Destroys `spectrum` (used as scratch). Writes only the rows in `rows`
   * (default: all) into `grid`, at their usual positions; other rows are left untouched.
   */
  inverse(spectrum: Float32Array, grid: Float32Array, rows?: RowRange): void {
    const { nx, ny, nz, nxh, m } = this;
    const { y0: ya, y1: yb, z0: za, z1: zb } = rows ?? { y0: 0, y1: ny, z0: 0, z1: nz };
    // y first (contiguous, every kz), then z only for the output rows y ∈ [ya, yb): the
    // strided z pass is the expensive one, and the search region is a quarter of y.
    if (ny > 1) {
      const zFrom = nz > 1 ? 0 : za;
      const zTo = nz > 1 ? nz : zb;
      for (let kx = 0; kx < nxh; kx++) {
        for (let kz = zFrom; kz < zTo; kz++) this.transformContiguous(spectrum, 2 * (kx * nz + kz) * ny, ny, this.setupY, PFFFT_BACKWARD);
      }
    }
    if (nz > 1) {
      for (let kx = 0; kx < nxh; kx++) this.transformZ(spectrum, kx, ya, yb, PFFFT_BACKWARD);
    }
    const inIdx = this.inPtr >> 2;
    const outIdx = this.outPtr >> 2;
    const block = this.block;
    const rowStride = nx + 2;
    for (let z = za; z < zb; z++) {
      for (let y0 = ya; y0 < yb; y0 += BLOCK_ROWS) {
        const rows = Math.min(BLOCK_ROWS, yb - y0);
        for (let kx = 0; kx < nxh; kx++) {
          let src = 2 * ((kx * nz + z) * ny + y0);
          for (let r = 0; r < rows; r++, src += 2) {
            block[r * rowStride + 2 * kx] = spectrum[src];
            block[r * rowStride + 2 * kx + 1] = spectrum[src + 1];
          }
        }
        for (let r = 0; r < rows; r++) {
          const row = block.subarray(r * rowStride, r * rowStride + nx);
          row[1] = block[r * rowStride + nx]; // Nyquist back into PFFFT's packed slot
          const heap = m.HEAPF32;
          heap.set(row, inIdx);
          m._pffft_transform_ordered(this.setupX, this.inPtr, this.outPtr, this.workPtr, PFFFT_BACKWARD);
          const dst = (z * ny + y0 + r) * nx;
          grid.set(m.HEAPF32.subarray(outIdx, outIdx + nx), dst);
        }
      }
    }
  }

  private transformContiguous(data: Float32Array, offset: number, n: number, setup: number, direction: number): void {
    const m = this.m;
    m.HEAPF32.set(data.subarray(offset, offset + 2 * n), this.inPtr >> 2);
    m._pffft_transform_ordered(setup, this.inPtr, this.outPtr, this.workPtr, direction);
    const o = this.outPtr >> 2;
    data.set(m.HEAPF32.subarray(o, o + 2 * n), offset);
  }

  /** Complex FFT along z (stride 2·ny) of the columns y ∈ [y0, y1) of plane kx. */
  private transformZ(data: Float32Array, kx: number, y0: number, y1: number, direction: number): void {
    const { ny, nz, m } = this;
    const inIdx = this.inPtr >> 2;
    const outIdx = this.outPtr >> 2;
    const stride = 2 * ny;
    for (let y = y0; y < y1; y++) {
      const offset = 2 * (kx * nz * ny + y);
      let heap = m.HEAPF32;
      for (let i = 0, s = offset; i < nz; i++, s += stride) {
        heap[inIdx + 2 * i] = data[s];
        heap[inIdx + 2 * i + 1] = data[s + 1];
      }
      m._pffft_transform_ordered(this.setupZ, this.inPtr, this.outPtr, this.workPtr, direction);
      heap = m.HEAPF32;
      for (let i = 0, s = offset; i < nz; i++, s += stride) {
        data[s] = heap[outIdx + 2 * i];
        data[s + 1] = heap[outIdx + 2 * i + 1];
      }
    }
  }
}
