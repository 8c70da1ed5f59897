/**
 * One registration core for both front ends (localization histograms and image frames):
 * spectra of real grids, Gaussian-smoothed cross-correlation, search in the central region,
 * sub-pixel peak (SPEC §4.1 step 5).
 *
 * Shift convention: `measure(specI, specJ)` returns the displacement d of the content of grid
 * j relative to grid i in pixels (grid_j(x) ≈ grid_i(x − d)), so the correction to add to j
 * relative to i is −d (core/types.ts).
 */
import { fftSize, type PffftModule } from '../fft/pffft.js';
import { RealFftNd, type GridShape } from '../fft/realFftNd.js';
import { findPeak } from './findPeak.js';

/** σ of the Gaussian both spectra are smoothed with, in pixels of real space (SPEC §4.1). */
export const SMOOTHING_SIGMA_PX = 0.5;
/** Axes at least this long are searched only in their central part. */
const CENTRAL_MIN_LENGTH = 16;
/** Fraction of the axis dropped on each side for the search. */
const CENTRAL_DROP_FRACTION = 6 / 16;

export interface RegistrationPlan {
  /** Size of the data (bins or pixels) per axis. */
  dataShape: GridShape;
  /** Padded size the FFTs run on (2·3·5-smooth, PFFFT multiples). */
  fftShape: GridShape;
  /** Searched shifts per axis (x, y, z): lo ≤ s < hi, pixels. */
  shiftLo: [number, number, number];
  shiftHi: [number, number, number];
  smoothingSigmaPx: number;
}

/**
 * Shifts searched along one axis, symmetric about 0 so that the sub-pixel fit sees the same
 * neighbourhood on both sides of a peak near zero.
 */
function searchRange(dataLength: number, fftLength: number): [number, number] {
  if (fftLength === 1) return [0, 1];
  let half = fftLength / 2 - 1;
  if (dataLength >= CENTRAL_MIN_LENGTH) {
    const cut = Math.floor(CENTRAL_DROP_FRACTION * dataLength);
    half = Math.floor(dataLength / 2) - cut;
  }
  return [-half, half + 1];
}

export interface RegistrationPlanOptions {
  /** σ of the Gaussian smoothing, pixels. @default SMOOTHING_SIGMA_PX */
  smoothingSigmaPx?: number;
  /**
   * Zero-pad z to at least 2·nz − 1 (a linear, not circular, correlation along z) and search
   * ±nz/2 planes: for thin volumes, which are not tapered along z and whose z drift is a
   * sizeable fraction of their depth (image/clipFilter.ts, THIN_VOLUME_PLANES). @default false
   */
  linearZ?: boolean;
}

/**
 * Bytes one registration thread holds for a grid of `shape` (already FFT-sized or not): the
 * filled grid, two spectra, their product, the correlation, the smoothing weights and the
 * searched region, all float32 — about seven grids.
 */
export function registrationBytes(shape: GridShape): number {
  return REGISTRATION_GRIDS * 4 * shape.nx * shape.ny * shape.nz;
}
const REGISTRATION_GRIDS = 7;

export function createRegistrationPlan(
  dataShape: GridShape,
  { smoothingSigmaPx = SMOOTHING_SIGMA_PX, linearZ = false }: RegistrationPlanOptions = {},
): RegistrationPlan {
  const padZ = linearZ && dataShape.nz > 1;
  const fftShape: GridShape = {
    nx: fftSize(dataShape.nx, 'real'),
    ny: dataShape.ny > 1 ? fftSize(dataShape.ny, 'complex') : 1,
    nz: dataShape.nz > 1 ? fftSize(padZ ? 2 * dataShape.nz - 1 : dataShape.nz, 'complex') : 1,
  };
  const rx = searchRange(dataShape.nx, fftShape.nx);
  const ry = searchRange(dataShape.ny, fftShape.ny);
  const halfZ = Math.floor(dataShape.nz / 2);
  const rz: [number, number] = padZ ? [-halfZ, halfZ + 1] : searchRange(dataShape.nz, fftShape.nz);
  return {
    dataShape,
    fftShape,
    shiftLo: [rx[0], ry[0], rz[0]],
    shiftHi: [rx[1], ry[1], rz[1]],
    smoothingSigmaPx,
  };
}

export interface ShiftMeasurement {
  /** Displacement of j relative to i, pixels (x, y, z). */
  shift: [number, number, number];
}

export class Registrar {
  readonly plan: RegistrationPlan;
  readonly fft: RealFftNd;
  /** Gaussian smoothing × (−1)^(kx+ky+kz) (centres the correlation), per complex bin. */
  private readonly weights: Float32Array;
  private readonly product: Float32Array;
  private readonly corr: Float32Array;
  /** Size of the searched region (x, y, z). */
  readonly regionShape: [number, number, number];
  private readonly region: Float32Array;

  constructor(plan: RegistrationPlan, pffft: PffftModule) {
    this.plan = plan;
    this.fft = new RealFftNd(pffft, plan.fftShape);
    const { nx, ny, nz } = plan.fftShape;
    const nxh = this.fft.nxh;
    this.weights = new Float32Array(nxh * ny * nz);
    // Smoothing both spectra by exp(−2π²σ²f²) multiplies the product by exp(−4π²σ²f²).
    const c = -4 * Math.PI * Math.PI * plan.smoothingSigmaPx ** 2;
    for (let kx = 0; kx < nxh; kx++) {
      const fx = kx / nx;
      for (let kz = 0; kz < nz; kz++) {
        const fz = (kz < nz / 2 ? kz : kz - nz) / nz;
        for (let ky = 0; ky < ny; ky++) {
          const fy = (ky < ny / 2 ? ky : ky - ny) / ny;
          const sign = (kx + ky + kz) % 2 === 0 ? 1 : -1;
          this.weights[(kx * nz + kz) * ny + ky] = sign * Math.exp(c * (fx * fx + fy * fy + fz * fz));
        }
      }
    }
    this.product = new Float32Array(this.fft.spectrumLength);
    this.corr = new Float32Array(this.fft.gridLength);
    this.regionShape = [0, 1, 2].map((a) => plan.shiftHi[a] - plan.shiftLo[a]) as [number, number, number];
    this.region = new Float32Array(this.regionShape[0] * this.regionShape[1] * this.regionShape[2]);
  }

  dispose(): void {
    this.fft.dispose();
  }

  /** Spectrum of a real grid laid out in the padded FFT shape (x fastest). */
  forward(grid: Float32Array, spectrum: Float32Array): void {
    this.fft.forward(grid, spectrum);
  }

  /**
   * |IFFT(S_j · conj(S_i) · G)| over the searched region, as a new array of `regionShape`
   * (x fastest). Index r along an axis is the shift shiftLo + r.
   */
  correlationRegion(specI: Float32Array, specJ: Float32Array): Float32Array {
    const { product: p, weights: w } = this;
    const nBins = w.length;
    for (let k = 0; k < nBins; k++) {
      const a = specJ[2 * k];
      const b = specJ[2 * k + 1];
      const c = specI[2 * k];
      const d = specI[2 * k + 1];
      p[2 * k] = (a * c + b * d) * w[k];
      p[2 * k + 1] = (b * c - a * d) * w[k];
    }
    const { nx, ny, nz } = this.plan.fftShape;
    const [lx, ly, lz] = this.plan.shiftLo;
    const [rx, ry, rz] = this.regionShape;
    // After the (−1)^k factor, shift s sits at index n/2 + s along every axis.
    const x0 = nx / 2 + lx;
    const y0 = ny === 1 ? 0 : ny / 2 + ly;
    const z0 = nz === 1 ? 0 : nz / 2 + lz;
    this.fft.inverse(p, this.corr, { y0, y1: y0 + ry, z0, z1: z0 + rz });
    const out = this.region;
    for (let z = 0; z < rz; z++) {
      for (let y = 0; y < ry; y++) {
        const src = ((z0 + z) * ny + y0 + y) * nx + x0;
        const dst = (z * ry + y) * rx;
        for (let x = 0; x < rx; x++) out[dst + x] = Math.abs(this.corr[src + x]);
      }
    }
    return out;
  }

  /**
   * Peak of the correlation of grid j against grid i, in shift pixels (not yet corrected by
   * the autocorrelation origin). Null when the correlation is flat (e.g. an empty window).
   */
  peak(specI: Float32Array, specJ: Float32Array): [number, number, number] | null {
    return this.measure(specI, specJ)?.shift ?? null;
  }

  /** `peak` with its ambiguity (PeakResult.secondaryRatio). */
  measure(specI: Float32Array, specJ: Float32Array): { shift: [number, number, number]; secondaryRatio: number } | null {
    const region = this.correlationRegion(specI, specJ);
    const [rx, ry, rz] = this.regionShape;
    const found = findPeak(region, rx, ry, rz);
    if (!found) return null;
    const [lx, ly, lz] = this.plan.shiftLo;
    return { shift: [found.position[0] + lx, found.position[1] + ly, found.position[2] + lz], secondaryRatio: found.secondaryRatio };
  }
}
