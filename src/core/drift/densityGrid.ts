/**
 * A smoothed localization density on a regular grid — the reference the fine drift stage
 * registers short segments against (see refineDrift.ts). The density is a nearest-bin
 * histogram blurred by a separable Gaussian; a segment's own localizations can be taken out
 * (and put back) exactly, kernel for kernel, so a segment is never registered against itself.
 *
 * Values are read by bilinear interpolation (trilinear in 3D) at a point and at the eight
 * points one bin away, all sharing the same fractional weights: the 3×3 neighbourhood the
 * peak search climbs on costs one 4×4 (×2 in 3D) patch read per localization.
 */
import { UsageError } from '../errors.js';

/** Gaussian kernels are cut at this many standard deviations. */
const KERNEL_CUTOFF_SD = 3;
/** The cost of one kernel tap added by a splat, relative to one tap of the separable blur. */
const SPLAT_COST_PER_TAP = 2;

export interface DensityGridOptions {
  /** Lateral bin (nm) and kernel standard deviation (nm). */
  binNm: number;
  sigmaNm: number;
  /** Axial bin and kernel (nm); 3D when given. */
  binZNm?: number;
  sigmaZNm?: number;
  /** Extent (nm) the grid must cover: [xLo, xHi, yLo, yHi, zLo, zHi]. */
  extent: [number, number, number, number, number, number];
  /** Refuse grids of more than this many cells (memory). */
  maxCells: number;
  /** Kernels are cut at this many sd. @default KERNEL_CUTOFF_SD */
  cutoffSd?: number;
}

function gaussianKernel(sigmaBins: number, cutoffSd = KERNEL_CUTOFF_SD): Float32Array {
  const r = Math.max(1, Math.ceil(cutoffSd * sigmaBins));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-0.5 * (i / sigmaBins) ** 2);
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

export class DensityGrid {
  readonly nx: number;
  readonly ny: number;
  readonly nz: number;
  readonly binNm: number;
  readonly binZNm: number;
  readonly x0: number;
  readonly y0: number;
  readonly z0: number;
  readonly data: Float32Array;
  private readonly kx: Float32Array;
  private readonly kz: Float32Array | null;
  /** 2D: the lateral kernel's outer product (row-major, (2·kr + 1)²), for the fast splat. */
  private readonly k2: Float32Array | null;
  private readonly kr: number;
  /** The kernels with OWN_PAD zeros on each side (centre at r + OWN_PAD): taps read without range checks. */
  private readonly kxPad: Float64Array;
  private readonly kzPad: Float64Array;
  private scratch = new Int32Array(0);
  /** Anything was added since the grid was made (a build or a splat): a build must clear it first. */
  private written = false;

  constructor(o: DensityGridOptions) {
    const [xl, xh, yl, yh, zl, zh] = o.extent;
    this.binNm = o.binNm;
    this.binZNm = o.binZNm ?? 1;
    this.kx = gaussianKernel(o.sigmaNm / o.binNm, o.cutoffSd);
    const threeD = o.binZNm !== undefined;
    this.kz = threeD ? gaussianKernel((o.sigmaZNm ?? o.binZNm!) / o.binZNm!, o.cutoffSd) : null;
    this.kr = (this.kx.length - 1) / 2;
    const kw = this.kx.length;
    this.k2 = threeD ? null : Float32Array.from({ length: kw * kw }, (_, q) => this.kx[Math.floor(q / kw)] * this.kx[q % kw]);
    const pad = (k: Float32Array) => {
      const out = new Float64Array(k.length + 2 * OWN_PAD);
      out.set(k, OWN_PAD);
      return out;
    };
    this.kxPad = pad(this.kx);
    this.kzPad = pad(this.kz ?? ONE);
    const rx = (this.kx.length - 1) / 2 + 2;
    this.x0 = xl - rx * o.binNm;
    this.y0 = yl - rx * o.binNm;
    this.nx = Math.ceil((xh - xl) / o.binNm) + 2 * rx + 1;
    this.ny = Math.ceil((yh - yl) / o.binNm) + 2 * rx + 1;
    if (threeD) {
      const rz = (this.kz!.length - 1) / 2 + 2;
      this.z0 = zl - rz * this.binZNm;
      this.nz = Math.ceil((zh - zl) / this.binZNm) + 2 * rz + 1;
    } else {
      this.z0 = 0;
      this.nz = 1;
    }
    const cells = this.nx * this.ny * this.nz;
    if (!(cells <= o.maxCells)) {
      throw new UsageError(
        `the fine drift stage would need a ${this.nx}×${this.ny}×${this.nz} reference grid (${(cells / 1e6).toFixed(0)} M cells, ` +
          `${((cells * 4) / 2 ** 30).toFixed(1)} GiB); the field is too large for its bin of ${o.binNm.toFixed(1)} nm`,
      );
    }
    this.data = new Float32Array(cells);
  }

  /**
   * Reach (bins) of OwnCells' neighbour lists, lateral and axial — the kernel, the reads' patch,
   * one bin of rounding and OWN_CLIMB — and the lateral reach of a read alone.
   */
  ownReach(): [number, number, number] {
    const r = (this.kx.length - 1) / 2;
    const rz = this.kz ? (this.kz.length - 1) / 2 : 0;
    return [r + 3 + OWN_CLIMB, this.kz ? rz + 3 + OWN_CLIMB : 0, r + 3];
  }

  get threeD(): boolean {
    return this.kz !== null;
  }

  /** Nearest cell of a point; −1 when outside the grid. */
  cellOf(x: number, y: number, z: number): number {
    const ix = Math.floor((x - this.x0) / this.binNm);
    const iy = Math.floor((y - this.y0) / this.binNm);
    const iz = this.kz ? Math.floor((z - this.z0) / this.binZNm) : 0;
    if (ix < 0 || iy < 0 || iz < 0 || ix >= this.nx || iy >= this.ny || iz >= this.nz) return -1;
    return (iz * this.ny + iy) * this.nx + ix;
  }

  /**
   * Histogram of the given cells (−1 skipped), then the blur: the separable one over the whole
   * grid, or — when the occupied cells are few (sparse data, a fine 3D grid, the common case) —
   * each occupied cell's kernel times its count added directly, in memory order. Both give the
   * same sums; the choice is by their cost (cells × taps against occupied cells × footprint).
   */
  build(cells: Int32Array): void {
    const d = this.data;
    // A new grid is all zeros already: not writing it leaves the pages far from the data
    // untouched (a fine 3D grid is mostly empty, and first touches are costly).
    if (this.written) d.fill(0);
    this.written = true;
    const footprint = this.kx.length * this.kx.length * (this.kz ? this.kz.length : 1);
    const separable = d.length * (2 * this.kx.length + (this.kz ? this.kz.length : 0));
    const limit = Math.min(cells.length, Math.floor(separable / (SPLAT_COST_PER_TAP * footprint)));
    if (this.scratch.length < limit) this.scratch = new Int32Array(limit);
    const where = this.scratch;
    // The histogram, noting each occupied cell as it first appears.
    let m = 0;
    for (let i = 0; i < cells.length; i++) {
      const c = cells[i];
      if (c < 0) continue;
      if (d[c] === 0) {
        if (m < limit) where[m] = c;
        m++;
      }
      d[c]++;
    }
    if (m <= limit) {
      const occupied = where.subarray(0, m).sort();
      const count = new Float32Array(m);
      for (let q = 0; q < m; q++) {
        count[q] = d[occupied[q]];
        d[occupied[q]] = 0;
      }
      for (let q = 0; q < m; q++) this.splat(occupied[q], count[q]);
      return;
    }
    this.blurPlanes();
    if (this.kz) this.blurAxis(this.nx * this.ny, this.nz, this.kz);
  }

  /**
   * The lateral blur of every z plane in one sweep: each row is blurred along x into a ring of
   * 2r + 1 rows, and output row y sums the ring's rows y − r … y + r — the rows stay in cache
   * and the grid is read and written once (a copy of the grid per axis made the build
   * memory-bound). Rows of zeros are skipped.
   */
  private blurPlanes(): void {
    const { nx, ny, nz, data: d, kx: k } = this;
    const r = (k.length - 1) / 2;
    const span = 2 * r + 1;
    const ring = Array.from({ length: span }, () => new Float32Array(nx));
    const filled = new Uint8Array(span);
    const acc = new Float32Array(nx);
    for (let z = 0; z < nz; z++) {
      const plane = z * nx * ny;
      filled.fill(0);
      // Ring slot of row j: j mod span. Row j is blurred into it just before output row j − r.
      const blurRow = (j: number) => {
        const slot = j % span;
        filled[slot] = 0;
        if (j >= ny) return;
        const base = plane + j * nx;
        let any = false;
        for (let i = 0; i < nx; i++) {
          if (d[base + i] !== 0) {
            any = true;
            break;
          }
        }
        if (!any) return;
        const out = ring[slot];
        for (let i = 0; i < nx; i++) {
          let a = 0;
          const lo = Math.max(0, i - r);
          const hi = Math.min(nx - 1, i + r);
          for (let q = lo; q <= hi; q++) a += d[base + q] * k[q - i + r];
          out[i] = a;
        }
        filled[slot] = 1;
      };
      for (let j = 0; j < r; j++) blurRow(j);
      for (let y = 0; y < ny; y++) {
        blurRow(y + r);
        acc.fill(0);
        let any = false;
        for (let b = -r; b <= r; b++) {
          const j = y + b;
          if (j < 0 || j >= ny) continue;
          const slot = j % span;
          if (!filled[slot]) continue;
          any = true;
          const w = k[b + r];
          const src = ring[slot];
          for (let i = 0; i < nx; i++) acc[i] += w * src[i];
        }
        const base = plane + y * nx;
        if (any) d.set(acc, base);
        else d.fill(0, base, base + nx);
      }
    }
  }

  /**
   * Blur along one axis. Lines of `stride` contiguous values (a row, a plane) are combined
   * whole, so every access runs along memory.
   */
  private blurAxis(stride: number, length: number, k: Float32Array): void {
    const d = this.data;
    const r = (k.length - 1) / 2;
    if (stride === 1) {
      const line = new Float32Array(length);
      for (let base = 0; base < d.length; base += length) {
        let any = false;
        for (let i = 0; i < length; i++) {
          line[i] = d[base + i];
          if (line[i] !== 0) any = true;
        }
        if (!any) continue;
        for (let i = 0; i < length; i++) {
          let acc = 0;
          const a = Math.max(0, i - r);
          const b = Math.min(length - 1, i + r);
          for (let j = a; j <= b; j++) acc += line[j] * k[j - i + r];
          d[base + i] = acc;
        }
      }
      return;
    }
    const block = stride * length;
    const copy = new Float32Array(block);
    for (let base = 0; base < d.length; base += block) {
      copy.set(d.subarray(base, base + block));
      for (let i = 0; i < length; i++) {
        const out = base + i * stride;
        d.fill(0, out, out + stride);
        const a = Math.max(0, i - r);
        const b = Math.min(length - 1, i + r);
        for (let j = a; j <= b; j++) {
          const w = k[j - i + r];
          const src = j * stride;
          for (let q = 0; q < stride; q++) d[out + q] += w * copy[src + q];
        }
      }
    }
  }

  /** Add `sign` × one localization's blurred kernel at `cell` (the exact share it has in the grid; `sign` may be a count). */
  splat(cell: number, sign: number): void {
    if (cell < 0) return;
    this.written = true;
    const nx = this.nx;
    const k2 = this.k2;
    if (k2) {
      // 2D, away from the edges: the kernel's outer product, row by row (the general loop below
      // costs 3–4× more per localization, and AIM's second round is mostly splats).
      const r = this.kr;
      const ix = cell % nx;
      const iy = (cell - ix) / nx;
      if (ix >= r && iy >= r && ix + r < nx && iy + r < this.ny) {
        const d = this.data;
        const w = 2 * r + 1;
        let o = cell - r * nx - r;
        if (w === 5) {
          for (let kb = 0; kb < 25; kb += 5, o += nx) {
            d[o] += sign * k2[kb];
            d[o + 1] += sign * k2[kb + 1];
            d[o + 2] += sign * k2[kb + 2];
            d[o + 3] += sign * k2[kb + 3];
            d[o + 4] += sign * k2[kb + 4];
          }
          return;
        }
        for (let b = 0; b < w; b++, o += nx) {
          const kb = b * w;
          for (let a = 0; a < w; a++) d[o + a] += sign * k2[kb + a];
        }
        return;
      }
    }
    const nxy = nx * this.ny;
    const ix = cell % nx;
    const iy = Math.floor(cell / nx) % this.ny;
    const iz = Math.floor(cell / nxy);
    const k = this.kx;
    const r = (k.length - 1) / 2;
    const kz = this.kz ?? ONE;
    const rz = (kz.length - 1) / 2;
    const d = this.data;
    for (let c = -rz; c <= rz; c++) {
      const z = iz + c;
      if (z < 0 || z >= this.nz) continue;
      const wz = sign * kz[c + rz];
      for (let b = -r; b <= r; b++) {
        const y = iy + b;
        if (y < 0 || y >= this.ny) continue;
        const wzy = wz * k[b + r];
        const row = z * nxy + y * nx;
        const a0 = Math.max(-r, -ix);
        const a1 = Math.min(r, nx - 1 - ix);
        for (let a = a0; a <= a1; a++) d[row + ix + a] += wzy * k[a + r];
      }
    }
  }

  /**
   * Lateral 3×3 neighbourhood: out[(b+1)·3 + (a+1)] += value at (x + a·bin, y + b·bin, z),
   * a, b ∈ {−1, 0, 1}. Also returns the centre value (for gradients, see `lateral`). With `own`,
   * the share of those localizations in the values is left out (computed from their kernels: the
   * grid is only read).
   */
  addLateral3x3(x: number, y: number, z: number, out: Float64Array, grad?: Float64Array, own?: OwnCells): void {
    const u = (x - this.x0) / this.binNm - 0.5;
    const v = (y - this.y0) / this.binNm - 0.5;
    const i0 = Math.floor(u);
    const j0 = Math.floor(v);
    const fx = u - i0;
    const fy = v - j0;
    if (i0 < 1 || j0 < 1 || i0 + 2 >= this.nx || j0 + 2 >= this.ny) return;
    let k0 = 0;
    let fz = 0;
    if (this.kz) {
      const w = (z - this.z0) / this.binZNm - 0.5;
      k0 = Math.floor(w);
      fz = w - k0;
      if (k0 < 0 || k0 + 1 >= this.nz) return;
    }
    const nx = this.nx;
    const d = this.data;
    const nxy = nx * this.ny;
    // 4×4 patch (rows j0−1…j0+2, columns i0−1…i0+2), blended over the two z planes.
    const p = PATCH;
    for (let b = 0; b < 4; b++) {
      const row = k0 * nxy + (j0 - 1 + b) * nx + i0 - 1;
      if (this.kz) {
        for (let a = 0; a < 4; a++) p[b * 4 + a] = (1 - fz) * d[row + a] + fz * d[row + nxy + a];
      } else {
        for (let a = 0; a < 4; a++) p[b * 4 + a] = d[row + a];
      }
    }
    const w00 = (1 - fx) * (1 - fy);
    const w10 = fx * (1 - fy);
    const w01 = (1 - fx) * fy;
    const w11 = fx * fy;
    for (let b = 0; b < 3; b++) {
      for (let a = 0; a < 3; a++) {
        const q = b * 4 + a;
        VALUES[b * 3 + a] = w00 * p[q] + w10 * p[q + 1] + w01 * p[q + 4] + w11 * p[q + 5];
      }
    }
    if (own && own.last > own.first) this.subtractLateral(own, i0, j0, k0, fx, fy, fz);
    for (let q = 0; q < 9; q++) out[q] += VALUES[q];
    if (grad) {
      // Per-localization gradient by central differences (per bin), for the sandwich covariance.
      const gx = (VALUES[5] - VALUES[3]) / 2;
      const gy = (VALUES[7] - VALUES[1]) / 2;
      grad[0] += gx;
      grad[1] += gy;
      grad[2] += gx * gx;
      grad[3] += gx * gy;
      grad[4] += gy * gy;
    }
  }

  /**
   * VALUES −= the share of `own` in the 3×3 values of `addLateral3x3`: a localization in cell
   * (jx, jy, jz) adds kx[ix − jx]·kx[iy − jy]·kz[iz − jz] to cell (ix, iy, iz), so its share of
   * the bilinear values is an outer product of two interpolated kernel rows.
   */
  private subtractLateral(own: OwnCells, i0: number, j0: number, k0: number, fx: number, fy: number, fz: number): void {
    const k = this.kxPad;
    const r = (this.kx.length - 1) / 2;
    const c = r + OWN_PAD;
    const kz = this.kzPad;
    const threeD = this.kz !== null;
    const rz = threeD ? (this.kz.length - 1) / 2 : 0;
    const cz = rz + OWN_PAD;
    const { ix, iy, iz, list } = own;
    const xLo = i0 - 1 - r;
    const xHi = i0 + 2 + r;
    const yLo = j0 - 1 - r;
    const yHi = j0 + 2 + r;
    for (let e = own.first; e < own.last; e++) {
      const q = list[e];
      if (ix[q] < xLo || ix[q] > xHi) continue;
      const jy = iy[q];
      if (jy < yLo || jy > yHi) continue;
      let wz = 1;
      if (threeD) {
        const jz = iz[q];
        if (jz < k0 - rz || jz > k0 + 1 + rz) continue;
        wz = (1 - fz) * kz[k0 - jz + cz] + fz * kz[k0 + 1 - jz + cz];
      }
      // Offsets within ±(r + 3) of the kernel's centre: inside the padded kernel.
      const ox = i0 - ix[q] + c;
      const x0 = k[ox - 1];
      const x1 = k[ox];
      const x2 = k[ox + 1];
      const x3 = k[ox + 2];
      const oy = j0 - jy + c;
      const y0 = k[oy - 1];
      const y1 = k[oy];
      const y2 = k[oy + 1];
      const y3 = k[oy + 2];
      const bx0 = (1 - fx) * x0 + fx * x1;
      const bx1 = (1 - fx) * x1 + fx * x2;
      const bx2 = (1 - fx) * x2 + fx * x3;
      const by0 = wz * ((1 - fy) * y0 + fy * y1);
      const by1 = wz * ((1 - fy) * y1 + fy * y2);
      const by2 = wz * ((1 - fy) * y2 + fy * y3);
      VALUES[0] -= by0 * bx0;
      VALUES[1] -= by0 * bx1;
      VALUES[2] -= by0 * bx2;
      VALUES[3] -= by1 * bx0;
      VALUES[4] -= by1 * bx1;
      VALUES[5] -= by1 * bx2;
      VALUES[6] -= by2 * bx0;
      VALUES[7] -= by2 * bx1;
      VALUES[8] -= by2 * bx2;
    }
  }

  /** Axial 1×3: out[c+1] += value at (x, y, z + c·binZ), c ∈ {−1, 0, 1}; `own` as in `addLateral3x3`. */
  addAxial3(x: number, y: number, z: number, out: Float64Array, grad?: Float64Array, own?: OwnCells): void {
    const u = (x - this.x0) / this.binNm - 0.5;
    const v = (y - this.y0) / this.binNm - 0.5;
    const w = (z - this.z0) / this.binZNm - 0.5;
    const i0 = Math.floor(u);
    const j0 = Math.floor(v);
    const k0 = Math.floor(w);
    if (i0 < 0 || j0 < 0 || i0 + 1 >= this.nx || j0 + 1 >= this.ny || k0 < 1 || k0 + 2 >= this.nz) return;
    const fx = u - i0;
    const fy = v - j0;
    const fz = w - k0;
    const nx = this.nx;
    const nxy = nx * this.ny;
    const d = this.data;
    const base = j0 * nx + i0;
    const planes = PLANES;
    for (let c = 0; c < 4; c++) {
      const o = (k0 - 1 + c) * nxy + base;
      planes[c] = (1 - fy) * ((1 - fx) * d[o] + fx * d[o + 1]) + fy * ((1 - fx) * d[o + nx] + fx * d[o + nx + 1]);
    }
    if (own && own.last > own.first && this.kz) {
      const k = this.kxPad;
      const r = (this.kx.length - 1) / 2;
      const cx = r + OWN_PAD;
      const kz = this.kzPad;
      const rz = (this.kz.length - 1) / 2;
      const cz = rz + OWN_PAD;
      const { ix, iy, iz, list } = own;
      for (let e = own.first; e < own.last; e++) {
        const q = list[e];
        if (ix[q] < i0 - r || ix[q] > i0 + 1 + r) continue;
        const jy = iy[q];
        const jz = iz[q];
        if (jy < j0 - r || jy > j0 + 1 + r || jz < k0 - 1 - rz || jz > k0 + 2 + rz) continue;
        const ox = i0 - ix[q] + cx;
        const oy = j0 - jy + cx;
        const wxy = ((1 - fx) * k[ox] + fx * k[ox + 1]) * ((1 - fy) * k[oy] + fy * k[oy + 1]);
        const oz = k0 - 1 - jz + cz;
        planes[0] -= wxy * kz[oz];
        planes[1] -= wxy * kz[oz + 1];
        planes[2] -= wxy * kz[oz + 2];
        planes[3] -= wxy * kz[oz + 3];
      }
    }
    let lo = 0;
    let hi = 0;
    for (let c = 0; c < 3; c++) {
      const val = (1 - fz) * planes[c] + fz * planes[c + 1];
      out[c] += val;
      if (c === 0) lo = val;
      if (c === 2) hi = val;
    }
    if (grad) {
      const g = (hi - lo) / 2;
      grad[0] += g;
      grad[1] += g * g;
    }
  }
}

/**
 * The cells of a few localizations (a segment of the fine stage), with each one's neighbours
 * among them: the grid's reads can leave out their share (`addLateral3x3`, `addAxial3`) without
 * writing to the grid, so a segment is never registered against itself and the grid stays
 * read-only. Neighbours are found through buckets of OwnCells.reach bins (no sort).
 */
export class OwnCells {
  /** Cells of the localizations, by row − from (−1 rows, outside the grid, have ix = −2^30). */
  ix = new Int32Array(0);
  iy = new Int32Array(0);
  iz = new Int32Array(0);
  /** Entries [first, last) of `list` (localization indices) are those the next read leaves out. */
  list = new Int32Array(0);
  first = 0;
  last = 0;
  private m = 0;
  /** Per localization l: its neighbours (itself included) are list[start[l] … start[l + 1]). */
  private start = new Int32Array(1);
  private next = new Int32Array(0);
  private head = new Int32Array(0);
  private stamp = new Int32Array(0);
  private generation = 0;
  private nbx = 0;
  private nby = 0;
  private reach = 0;
  private reachZ = 0;
  private patch = 0;

  /** The cells `cells[from…to)` of `grid`. */
  set(grid: DensityGrid, cells: Int32Array, from: number, to: number): this {
    const m = to - from;
    this.m = m;
    if (this.ix.length < m) {
      this.ix = new Int32Array(m);
      this.iy = new Int32Array(m);
      this.iz = new Int32Array(m);
      this.next = new Int32Array(m);
      this.start = new Int32Array(m + 1);
    }
    [this.reach, this.reachZ, this.patch] = grid.ownReach();
    const w = this.reach;
    const nbx = Math.ceil(grid.nx / w) + 1;
    const nby = Math.ceil(grid.ny / w) + 1;
    if (nbx !== this.nbx || nby !== this.nby) {
      this.nbx = nbx;
      this.nby = nby;
      this.head = new Int32Array(nbx * nby);
      this.stamp = new Int32Array(nbx * nby);
      this.generation = 0;
    }
    const gen = ++this.generation;
    const { ix, iy, iz, next, head, stamp } = this;
    const nx = grid.nx;
    const ny = grid.ny;
    for (let l = 0; l < m; l++) {
      const c = cells[from + l];
      if (c < 0) {
        ix[l] = iy[l] = iz[l] = FAR;
        continue;
      }
      const x = c % nx;
      const row = (c - x) / nx;
      ix[l] = x;
      iy[l] = row % ny;
      iz[l] = (row - iy[l]) / ny;
      const b = Math.floor(iy[l] / w) * nbx + Math.floor(x / w);
      if (stamp[b] !== gen) {
        stamp[b] = gen;
        head[b] = -1;
      }
      next[l] = head[b];
      head[b] = l;
    }
    // Neighbour lists: the 3×3 buckets around each localization's own.
    let e = 0;
    const start = this.start;
    for (let l = 0; l < m; l++) {
      start[l] = e;
      if (ix[l] === FAR) continue;
      e = this.gather(l, ix[l], iy[l], iz[l], w, this.reachZ, e);
    }
    start[m] = e;
    this.first = this.last = 0;
    return this;
  }

  /** Append to `list` from entry `e` the localizations within (rx, rx, rz) bins of (x, y, z); returns the new end. */
  private gather(l: number, x: number, y: number, z: number, rx: number, rz: number, e: number): number {
    const w = this.reach;
    const { ix, iy, iz, next, head, stamp } = this;
    const gen = this.generation;
    const bx0 = Math.max(0, Math.floor((x - rx) / w));
    const bx1 = Math.min(this.nbx - 1, Math.floor((x + rx) / w));
    const by0 = Math.max(0, Math.floor((y - rx) / w));
    const by1 = Math.min(this.nby - 1, Math.floor((y + rx) / w));
    for (let by = by0; by <= by1; by++) {
      for (let bx = bx0; bx <= bx1; bx++) {
        const b = by * this.nbx + bx;
        if (stamp[b] !== gen) continue;
        for (let j = head[b]; j >= 0; j = next[j]) {
          if (Math.abs(ix[j] - x) > rx || Math.abs(iy[j] - y) > rx || Math.abs(iz[j] - z) > rz) continue;
          if (e >= this.list.length) {
            const grown = new Int32Array(Math.max(64, 2 * this.list.length));
            grown.set(this.list);
            this.list = grown;
          }
          this.list[e++] = j;
        }
      }
    }
    return e;
  }

  /**
   * The next reads are of localization `local` (row − from) at an offset of (cx, cy, cz) bins
   * from its cell: its neighbour list when the offset is within OWN_CLIMB bins, else the cells
   * around the offset position (gathered after the lists).
   */
  select(local: number, cx: number, cy: number, cz: number): void {
    if (Math.abs(cx) <= OWN_CLIMB && Math.abs(cy) <= OWN_CLIMB && Math.abs(cz) <= OWN_CLIMB) {
      this.first = this.start[local];
      this.last = this.start[local + 1];
      return;
    }
    const end = this.start[this.m];
    this.first = end;
    this.last =
      this.ix[local] === FAR
        ? end
        : this.gather(
            local,
            this.ix[local] + Math.round(cx),
            this.iy[local] + Math.round(cy),
            this.iz[local] + Math.round(cz),
            this.patch,
            this.reachZ === 0 ? 0 : this.reachZ - OWN_CLIMB,
            end,
          );
  }
}

const ONE = Float32Array.of(1);
/** Zeros each side of the padded kernels: own-share offsets reach r + 3 from the centre. */
const OWN_PAD = 4;
/** The cell coordinate of a localization outside the grid: never a neighbour. */
const FAR = -(2 ** 30);
/** Neighbour lists of OwnCells serve reads up to this many bins from a localization's cell. */
const OWN_CLIMB = 2;
const PATCH = new Float64Array(16);
const VALUES = new Float64Array(9);
const PLANES = new Float64Array(4);
