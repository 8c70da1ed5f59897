/**
 * The correlation of two sparse histograms computed from their points, over the searched
 * shifts only — the same quantity the FFT route (registrar.ts) computes, at a cost that grows
 * with the number of localization pairs instead of the grid's volume.
 *
 * A 3D histogram of a time window is mostly empty (130 k localizations in 30 windows fill
 * ~4 000 of 15 M voxels at 20 nm), and RCC needs the correlation only in the central search
 * region. So instead of transforming every window (the 3D FFT and its spectra were 95 % of the
 * time and 2 GB), the displacement histogram D(d) = Σ_{a ∈ i, b ∈ j, p_b − p_a = d} w_a·w_b
 * (p = bin index, w = the Tukey weight of the bin) is accumulated over the searched d plus a
 * margin, and smoothed by the same Gaussian the FFT route applies to the product spectrum.
 *
 * Differences from the FFT route, all far below the peak estimator's noise: the correlation
 * is linear (the FFT's is circular on the padded grid, where shifts near ±grid wrap around the
 * tapered edges), and the smoothing kernel is the FFT route's band-limited Gaussian truncated
 * at KERNEL_RADIUS (its ringing tail beyond is < 0.5 % of the centre).
 * test/core/registration/pointCorrelation.test.ts compares both routes and a numpy reference.
 *
 * Layout and shift convention as Registrar.correlationRegion: region[(z·ry + y)·rx + x] is the
 * correlation at shift shiftLo + (x, y, z); a peak at d means grid j ≈ grid i moved by +d.
 */
import type { RegistrationPlan } from './registrar.js';
import { findPeak } from './findPeak.js';

/** Half-width of the truncated smoothing kernel, pixels. */
export const KERNEL_RADIUS = 4;
/** Length of the periodic grid the band-limited kernel is sampled from (≫ any data grid). */
const KERNEL_REFERENCE_LENGTH = 4096;

/** The localizations of one time window as bin indices and weights (Tukey window of the bin). */
export interface BinnedPoints {
  ix: Int32Array;
  iy: Int32Array;
  iz: Int32Array;
  w: Float32Array;
}

/**
 * 1-D kernel the FFT route applies along one axis: the inverse DFT of exp(−4π²σ²f²) for
 * f in [−1/2, 1/2) (both spectra smoothed by σ), sampled at integer lags 0 … radius.
 */
export function smoothingKernel(sigmaPx: number, radius = KERNEL_RADIUS): Float64Array {
  const n = KERNEL_REFERENCE_LENGTH;
  const c = -4 * Math.PI * Math.PI * sigmaPx * sigmaPx;
  const g = new Float64Array(radius + 1);
  for (let lag = 0; lag <= radius; lag++) {
    let s = 0;
    for (let k = -n / 2; k < n / 2; k++) {
      const f = k / n;
      s += Math.exp(c * f * f) * Math.cos(2 * Math.PI * f * lag);
    }
    g[lag] = s / n;
  }
  return g;
}

/** Points of one window bucketed by (x, y) cell, for range queries. */
interface CellIndex {
  points: BinnedPoints;
  /** Cell of side `cell` bins; start[c] … start[c + 1] index into `order`. */
  start: Int32Array;
  order: Int32Array;
}

export class PointCorrelator {
  readonly plan: RegistrationPlan;
  readonly regionShape: [number, number, number];
  private readonly kernel: Float64Array;
  private readonly radius: [number, number, number];
  /** Shape of the displacement histogram: the region plus the kernel margin on each side. */
  private readonly padded: [number, number, number];
  private readonly acc: Float64Array;
  private readonly tmpA: Float64Array;
  private readonly tmpB: Float64Array;
  private readonly region: Float32Array;
  private readonly cell: number;
  private readonly cellsX: number;
  private readonly cellsY: number;
  private readonly indexCache = new WeakMap<BinnedPoints, CellIndex>();

  constructor(plan: RegistrationPlan) {
    this.plan = plan;
    // (regionShape first: the cell size follows the searched extent)
    this.regionShape = [0, 1, 2].map((a) => plan.shiftHi[a] - plan.shiftLo[a]) as [number, number, number];
    this.kernel = smoothingKernel(plan.smoothingSigmaPx);
    const { nx, ny, nz } = plan.dataShape;
    this.radius = [nx > 1 ? KERNEL_RADIUS : 0, ny > 1 ? KERNEL_RADIUS : 0, nz > 1 ? KERNEL_RADIUS : 0];
    this.padded = [0, 1, 2].map((a) => this.regionShape[a] + 2 * this.radius[a]) as [number, number, number];
    const [px, py, pz] = this.padded;
    this.acc = new Float64Array(px * py * pz);
    this.tmpA = new Float64Array(px * py * pz);
    this.tmpB = new Float64Array(px * py * pz);
    this.region = new Float32Array(this.regionShape[0] * this.regionShape[1] * this.regionShape[2]);
    // Cells a quarter of the searched extent: a query touches ≤ 5 × 5 cells, ~1.6× the box.
    this.cell = Math.max(1, Math.ceil(Math.max(px, py) / 4));
    this.cellsX = Math.ceil(nx / this.cell) + 1;
    this.cellsY = Math.ceil(ny / this.cell) + 1;
  }

  private index(p: BinnedPoints): CellIndex {
    let idx = this.indexCache.get(p);
    if (idx) return idx;
    const { cell, cellsX, cellsY } = this;
    const n = p.w.length;
    const start = new Int32Array(cellsX * cellsY + 1);
    for (let k = 0; k < n; k++) start[Math.floor(p.iy[k] / cell) * cellsX + Math.floor(p.ix[k] / cell) + 1]++;
    for (let c = 1; c < start.length; c++) start[c] += start[c - 1];
    const fill = start.slice(0, -1);
    const order = new Int32Array(n);
    for (let k = 0; k < n; k++) order[fill[Math.floor(p.iy[k] / cell) * cellsX + Math.floor(p.ix[k] / cell)]++] = k;
    idx = { points: p, start, order };
    this.indexCache.set(p, idx);
    return idx;
  }

  /** Number of candidate point pairs a correlation of i with j examines (for the cost model). */
  candidatePairs(i: BinnedPoints, j: BinnedPoints): number {
    const a = this.index(i);
    const b = this.index(j);
    const { cellsX, cellsY } = this;
    const span = Math.ceil(Math.max(this.padded[0], this.padded[1]) / this.cell) + 1;
    let total = 0;
    for (let cy = 0; cy < cellsY; cy++) {
      for (let cx = 0; cx < cellsX; cx++) {
        const na = a.start[cy * cellsX + cx + 1] - a.start[cy * cellsX + cx];
        if (na === 0) continue;
        let nb = 0;
        for (let qy = Math.max(0, cy - span); qy <= Math.min(cellsY - 1, cy + span); qy++) {
          const row = qy * cellsX;
          nb += b.start[row + Math.min(cellsX, cx + span + 1)] - b.start[row + Math.max(0, cx - span)];
        }
        total += na * nb;
      }
    }
    return total;
  }

  /**
   * The smoothed correlation over the searched region (see the file comment), or over the
   * region moved to start at `shiftLo`; a reused buffer.
   */
  correlationRegion(i: BinnedPoints, j: BinnedPoints, shiftLo: readonly number[] = this.plan.shiftLo): Float32Array {
    const [lx, ly, lz] = shiftLo;
    const [rx, ry, rz] = this.radius;
    const [px, py, pz] = this.padded;
    // Displacement d is stored at (d − shiftLo + radius); only d within the padded box counts.
    const dx0 = lx - rx;
    const dy0 = ly - ry;
    const dz0 = lz - rz;
    const acc = this.acc;
    acc.fill(0);
    const a = i;
    const bIdx = this.index(j);
    const { cell, cellsX, cellsY } = this;
    const { ix: bx, iy: by, iz: bz, w: bw } = j;
    const { start, order } = bIdx;
    for (let k = 0; k < a.w.length; k++) {
      const ax = a.ix[k];
      const ay = a.iy[k];
      const az = a.iz[k];
      const wa = a.w[k];
      // b.x − a.x ∈ [dx0, dx0 + px) ⇒ b.x ∈ [ax + dx0, ax + dx0 + px).
      const xLo = ax + dx0;
      const yLo = ay + dy0;
      const zLo = az + dz0;
      const cx0 = Math.max(0, Math.floor(xLo / cell));
      const cx1 = Math.min(cellsX - 1, Math.floor((xLo + px - 1) / cell));
      const cy0 = Math.max(0, Math.floor(yLo / cell));
      const cy1 = Math.min(cellsY - 1, Math.floor((yLo + py - 1) / cell));
      for (let cy = cy0; cy <= cy1; cy++) {
        const from = start[cy * cellsX + cx0];
        const to = start[cy * cellsX + cx1 + 1];
        for (let q = from; q < to; q++) {
          const m = order[q];
          const ux = bx[m] - xLo;
          if (ux < 0 || ux >= px) continue;
          const uy = by[m] - yLo;
          if (uy < 0 || uy >= py) continue;
          const uz = bz[m] - zLo;
          if (uz < 0 || uz >= pz) continue;
          acc[(uz * py + uy) * px + ux] += wa * bw[m];
        }
      }
    }
    return this.smooth(acc);
  }

  /** Separable convolution with the kernel; the margin is dropped, |·| as the FFT route. */
  private smooth(acc: Float64Array): Float32Array {
    const [px, py, pz] = this.padded;
    const [rx, ry, rz] = this.radius;
    const [qx, qy, qz] = this.regionShape;
    // A singleton axis is not smoothed (its only frequency is 0, weight 1, in the FFT route).
    const unit = Float64Array.of(1);
    const [gx, gy, gz] = this.radius.map((r) => (r > 0 ? this.kernel : unit));
    // x: padded (px, py, pz) → (qx, py, pz) in tmpA.
    const a = this.tmpA;
    for (let r = 0; r < py * pz; r++) {
      const src = r * px;
      const dst = r * qx;
      for (let x = 0; x < qx; x++) {
        const c = src + x + rx;
        let s = gx[0] * acc[c];
        for (let t = 1; t <= rx; t++) s += gx[t] * (acc[c - t] + acc[c + t]);
        a[dst + x] = s;
      }
    }
    // y: (qx, py, pz) → (qx, qy, pz) in tmpB.
    const b = this.tmpB;
    for (let z = 0; z < pz; z++) {
      for (let y = 0; y < qy; y++) {
        const dst = (z * qy + y) * qx;
        const c = (z * py + y + ry) * qx;
        for (let x = 0; x < qx; x++) b[dst + x] = gy[0] * a[c + x];
        for (let t = 1; t <= ry; t++) {
          const lo = c - t * qx;
          const hi = c + t * qx;
          const gt = gy[t];
          for (let x = 0; x < qx; x++) b[dst + x] += gt * (a[lo + x] + a[hi + x]);
        }
      }
    }
    // z: (qx, qy, pz) → region (qx, qy, qz).
    const out = this.region;
    const plane = qx * qy;
    for (let z = 0; z < qz; z++) {
      const dst = z * plane;
      const c = (z + rz) * plane;
      for (let k = 0; k < plane; k++) {
        let s = gz[0] * b[c + k];
        for (let t = 1; t <= rz; t++) s += gz[t] * (b[c + k - t * plane] + b[c + k + t * plane]);
        out[dst + k] = Math.abs(s);
      }
    }
    return out;
  }
}

/** Coarse bins per fine bin along axes whose searched range is at least COARSE_MIN_RANGE. */
export const COARSE_FACTOR = 4;
export const COARSE_MIN_RANGE = 16;
/** Coarse local maxima this close to the highest are refined too (the peaks may swap at fine scale). */
export const CANDIDATE_FRACTION = 0.7;
const MAX_CANDIDATES = 4;
/** Moves of the fine box toward a maximum on its border before giving up. */
const MAX_BOX_MOVES = 8;
/** Fine boxes a measurement computes on typical data (candidates × moves), for the cost model. */
const TYPICAL_FINE_BOXES = 3;

/**
 * RCC's shift of two point sets, coarse to fine: the correlation over the whole searched
 * region from points aggregated into COARSE_FACTOR-times larger bins (its peaks), then the
 * full-resolution correlation only in a small box around each high coarse peak, moved until
 * its maximum is inside, and the sub-pixel fit of findPeak there. The fit sees the same 3×3×3
 * values as on the full region (findPeak's dilated mask always covers them), so the estimate
 * is the full-region one whenever the coarse stage finds the highest peak's neighbourhood;
 * the secondary-peak ratio comes from the coarse correlation.
 */
export class PointRegistrar {
  readonly plan: RegistrationPlan;
  readonly regionShape: [number, number, number];
  private readonly factor: [number, number, number];
  private readonly coarse: PointCorrelator;
  private readonly fine: PointCorrelator;
  private readonly coarseCache = new WeakMap<BinnedPoints, BinnedPoints>();
  private readonly fineCache = new WeakMap<BinnedPoints, BinnedPoints>();
  private readonly half: [number, number, number];

  constructor(plan: RegistrationPlan) {
    this.plan = plan;
    this.regionShape = [0, 1, 2].map((a) => plan.shiftHi[a] - plan.shiftLo[a]) as [number, number, number];
    this.factor = this.regionShape.map((r) => (r >= COARSE_MIN_RANGE ? COARSE_FACTOR : 1)) as [number, number, number];
    const f = this.factor;
    const d = plan.dataShape;
    this.coarse = new PointCorrelator({
      ...plan,
      dataShape: { nx: Math.ceil(d.nx / f[0]), ny: Math.ceil(d.ny / f[1]), nz: Math.ceil(d.nz / f[2]) },
      shiftLo: [0, 1, 2].map((a) => Math.floor(plan.shiftLo[a] / f[a])) as [number, number, number],
      shiftHi: [0, 1, 2].map((a) => Math.ceil((plan.shiftHi[a] - 1) / f[a]) + 1) as [number, number, number],
    });
    // A coarse bin's displacement S covers fine displacements within ±(f − 1) of S·f; one more
    // on each side for the 3×3×3 fit.
    this.half = f.map((k, a) => (this.regionShape[a] > 1 ? Math.min(k + 1, Math.floor((this.regionShape[a] - 1) / 2)) : 0)) as [number, number, number];
    this.fine = new PointCorrelator({
      ...plan,
      shiftLo: this.half.map((h) => -h) as [number, number, number],
      shiftHi: this.half.map((h) => h + 1) as [number, number, number],
    });
  }

  /**
   * Work of one measurement as counts: candidate point pairs (coarse and fine) and smoothed
   * voxels, for the executor's cost model.
   */
  work(i: BinnedPoints, j: BinnedPoints): { pairs: number; voxels: number } {
    const [cx, cy, cz] = this.coarse.regionShape;
    const [fx, fy, fz] = this.fine.regionShape;
    return {
      pairs:
        this.coarse.candidatePairs(this.coarsePoints(i), this.coarsePoints(j)) +
        TYPICAL_FINE_BOXES * this.fine.candidatePairs(this.finePoints(i), this.finePoints(j)),
      voxels: (cx + 8) * (cy + 8) * (cz + 8) + TYPICAL_FINE_BOXES * (fx + 8) * (fy + 8) * (fz + 8),
    };
  }

  private coarsePoints(p: BinnedPoints): BinnedPoints {
    return aggregated(p, this.factor, this.coarse.plan.dataShape, this.coarseCache);
  }

  /** The points merged per bin (weights summed): the same histogram, fewer pairs when emitters blink or beads stay on. */
  private finePoints(p: BinnedPoints): BinnedPoints {
    return aggregated(p, [1, 1, 1], this.plan.dataShape, this.fineCache);
  }

  /** As Registrar.measure: displacement of j relative to i (pixels) and its ambiguity; null when flat. */
  measure(i: BinnedPoints, j: BinnedPoints): { shift: [number, number, number]; secondaryRatio: number } | null {
    const cr = this.coarse.correlationRegion(this.coarsePoints(i), this.coarsePoints(j));
    const [cx, cy, cz] = this.coarse.regionShape;
    const coarsePeak = findPeak(cr, cx, cy, cz);
    if (!coarsePeak) return null;
    const cLo = this.coarse.plan.shiftLo;
    const max = cr[(coarsePeak.maxIndex[2] * cy + coarsePeak.maxIndex[1]) * cx + coarsePeak.maxIndex[0]];
    const candidates = localMaxima(cr, cx, cy, cz, CANDIDATE_FRACTION * max, MAX_CANDIDATES);
    let best: { value: number; lo: number[]; box: Float32Array } | null = null;
    for (const c of candidates) {
      const centre = [0, 1, 2].map((a) => (c[a] + cLo[a]) * this.factor[a]);
      const found = this.fineBox(this.finePoints(i), this.finePoints(j), centre);
      if (found && (!best || found.value > best.value)) best = found;
    }
    if (!best) return null;
    const [bx, by, bz] = this.fine.regionShape;
    const peak = findPeak(best.box, bx, by, bz);
    if (!peak) return null;
    return {
      shift: [0, 1, 2].map((a) => peak.position[a] + best.lo[a]) as [number, number, number],
      secondaryRatio: coarsePeak.secondaryRatio,
    };
  }

  /**
   * The fine correlation in the box around `centre` (shift pixels), moved until its maximum is
   * not on a border the searched region does not share; values outside the region are 0.
   */
  private fineBox(i: BinnedPoints, j: BinnedPoints, centre: number[]): { value: number; lo: number[]; box: Float32Array } | null {
    const { shiftLo, shiftHi } = this.plan;
    const [bx, by, bz] = this.fine.regionShape;
    const shape = [bx, by, bz];
    const lo = centre.map((c, a) => Math.min(Math.max(c - this.half[a], shiftLo[a]), Math.max(shiftLo[a], shiftHi[a] - shape[a])));
    for (let move = 0; move <= MAX_BOX_MOVES; move++) {
      const box = this.fine.correlationRegion(i, j, lo);
      let value = -Infinity;
      let at = 0;
      for (let z = 0; z < bz; z++) {
        for (let y = 0; y < by; y++) {
          for (let x = 0; x < bx; x++) {
            const k = (z * by + y) * bx + x;
            const s = [x + lo[0], y + lo[1], z + lo[2]];
            if (s[0] < shiftLo[0] || s[0] >= shiftHi[0] || s[1] < shiftLo[1] || s[1] >= shiftHi[1] || s[2] < shiftLo[2] || s[2] >= shiftHi[2]) {
              box[k] = 0;
            } else if (box[k] > value) {
              value = box[k];
              at = k;
            }
          }
        }
      }
      if (!(value > 0)) return null;
      const m = [at % bx, Math.floor(at / bx) % by, Math.floor(at / (bx * by))];
      let moved = false;
      for (let a = 0; a < 3; a++) {
        if (shape[a] === 1) continue;
        const onLow = m[a] === 0 && lo[a] > shiftLo[a];
        const onHigh = m[a] === shape[a] - 1 && lo[a] + shape[a] < shiftHi[a];
        if (onLow || onHigh) {
          lo[a] = Math.min(Math.max(lo[a] + m[a] - this.half[a], shiftLo[a]), shiftHi[a] - shape[a]);
          moved = true;
        }
      }
      if (!moved || move === MAX_BOX_MOVES) return { value, lo, box: Float32Array.from(box) };
    }
    return null;
  }
}

/** Points binned `factor` times coarser along each axis, one per occupied bin of `shape` with the summed weight; cached. */
function aggregated(p: BinnedPoints, factor: readonly number[], shape: { nx: number; ny: number }, cache: WeakMap<BinnedPoints, BinnedPoints>): BinnedPoints {
  let c = cache.get(p);
  if (c) return c;
  const [fx, fy, fz] = factor;
  const { nx, ny } = shape;
  const sums = new Map<number, number>();
  for (let k = 0; k < p.w.length; k++) {
    const key = (Math.floor(p.iz[k] / fz) * ny + Math.floor(p.iy[k] / fy)) * nx + Math.floor(p.ix[k] / fx);
    sums.set(key, (sums.get(key) ?? 0) + p.w[k]);
  }
  const n = sums.size;
  c = { ix: new Int32Array(n), iy: new Int32Array(n), iz: new Int32Array(n), w: new Float32Array(n) };
  let k = 0;
  for (const [key, w] of sums) {
    c.ix[k] = key % nx;
    c.iy[k] = Math.floor(key / nx) % ny;
    c.iz[k] = Math.floor(key / (nx * ny));
    c.w[k++] = w;
  }
  cache.set(p, c);
  return c;
}

/** Local maxima (≥ their 3×3×3 neighbours) at or above `threshold`, highest first, at most `limit`. */
function localMaxima(img: Float32Array, nx: number, ny: number, nz: number, threshold: number, limit: number): number[][] {
  const found: { v: number; at: number[] }[] = [];
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        const v = img[(z * ny + y) * nx + x];
        if (!(v >= threshold)) continue;
        let isMax = true;
        for (let dz = -1; dz <= 1 && isMax; dz++) {
          for (let dy = -1; dy <= 1 && isMax; dy++) {
            for (let dx = -1; dx <= 1; dx++) {
              const xx = x + dx;
              const yy = y + dy;
              const zz = z + dz;
              if (xx < 0 || yy < 0 || zz < 0 || xx >= nx || yy >= ny || zz >= nz) continue;
              if (img[(zz * ny + yy) * nx + xx] > v) {
                isMax = false;
                break;
              }
            }
          }
        }
        if (isMax) found.push({ v, at: [x, y, z] });
      }
    }
  }
  found.sort((a, b) => b.v - a.v);
  return found.slice(0, limit).map((f) => f.at);
}
