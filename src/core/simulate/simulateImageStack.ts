/**
 * A simulated time-lapse image stack with a known drift: wormlike filaments rendered as
 * blurred intensity images (2D frames, or volumes of a few z planes), each time point
 * rendered afresh at the drifted emitter positions, so shifts are exact (no image
 * interpolation). Deterministic: frame i depends only on (seed, i), so frames may be read
 * in any order, any number of times.
 *
 * Drift (see ../types.ts): `truth` is the correction to ADD at each time point; the
 * structure appears at x_true − truth.x[i], i.e. it moves by −truth[i] / voxel size pixels.
 */
import { UsageError } from '../errors.js';
import type { DriftTrace, ImageStack, Metadata, NumericArray } from '../types.js';
import { createRandom } from './random.js';
import { erf } from './special.js';
import { simulateDriftTrace, type DriftJump } from './simulateDriftTrace.js';
import { simulateFilaments } from './simulateFilaments.js';

export interface SimulateImageStackOptions {
  /** Number of time points. @default 50 */
  frames?: number;
  /** Lateral pixel size (nm). @default 20 */
  pixelNm?: number;
  /** 2 (X, Y, T) or 3 (X, Y, Z, T). @default 2 */
  dim?: 2 | 3;
  /** Seed of the generator (non-negative integer). @default 1 */
  seed?: number;
  /** Frame width and height (pixels). @default 256 when pixelNm < 50, else 128 */
  width?: number;
  height?: number;
  /** 3D only: z planes per volume. @default 8 */
  depth?: number;
  /** 3D only: plane spacing (nm); also voxelSizeNm[2] (reported for 2D too). @default 100 */
  zStepNm?: number;
  /**
   * 'float32': fine, low-noise intensities (like a rendered super-resolution image);
   * 'uint16': camera-like counts = offset + Poisson(background + signal).
   * @default 'float32' when pixelNm < 50, else 'uint16'
   */
  dtype?: 'float32' | 'uint16';
  /** Lateral PSF standard deviation (nm). @default 1.5·pixelNm for float32, 130 for uint16 */
  psfSigmaNm?: number;
  /** 3D only: axial PSF standard deviation (nm). @default 2.5·psfSigmaNm */
  psfSigmaZNm?: number;
  /** Number of filaments. @default about one per 4 µm² of field, at least 2 */
  filaments?: number;
  /** Persistence length of the filaments (nm). @default 1500 */
  persistenceLengthNm?: number;
  /** Peak intensity above background on a filament in focus (counts or photons). @default 100 (float32), 200 (uint16) */
  signalPeak?: number;
  /** uint16: background photons per pixel. @default 10 */
  backgroundPhotons?: number;
  /** uint16: camera offset (counts, ADU). @default 100 */
  offset?: number;
  /**
   * uint16: camera noise model. 'poisson': shot noise only, one count per photon (an ideal
   * camera); 'scmos': shot noise, Gaussian read noise with a per-pixel spread, a per-pixel
   * offset pattern (fixed from frame to frame) and `adPerElectron` counts per electron;
   * 'emccd': shot noise multiplied by the electron-multiplying register (gamma-distributed
   * gain, excess noise factor √2), then read noise. @default 'poisson'
   */
  camera?: 'poisson' | 'scmos' | 'emccd';
  /** uint16: read noise, electrons rms (median over pixels for sCMOS). @default 0 (poisson), 1.6 (scmos), 50 (emccd) */
  readNoiseE?: number;
  /** uint16: counts (ADU) per electron after any EM gain. @default 1 (poisson), 0.5 (scmos), 0.1 (emccd) */
  adPerElectron?: number;
  /** uint16, 'emccd': mean electron-multiplication gain. @default 100 */
  emGain?: number;
  /** uint16: standard deviation of the per-pixel offset pattern (ADU), the same in every frame. @default 0 (poisson, emccd), 2 (scmos) */
  offsetPatternSd?: number;
  /**
   * uint16: number of hot pixels, fixed to the camera: each adds HOT_PIXEL_MIN_ADU plus an
   * exponential excess of mean HOT_PIXEL_MEAN_EXCESS_ADU to its offset in every frame. @default 0
   */
  hotPixels?: number;
  /**
   * Photons per emitter per exposure (integrated over its PSF in a 2D frame, or over the
   * in-focus plane of a volume), instead of `signalPeak`. Emitters sit every
   * `EMITTER_SPACING_PER_SIGMA` PSF sigmas along the filaments. @default from signalPeak
   */
  photonsPerEmitter?: number;
  /** float32: standard deviation of additive Gaussian noise. @default 1 */
  noiseSd?: number;
  /** Peak |drift| of the smooth part in x and y (nm). @default 200 */
  driftAmplitudeNm?: number;
  /** 3D only: peak |drift| of the smooth part in z (nm). @default 100 */
  driftAmplitudeZNm?: number;
  /** Sudden steps: frames, or explicit steps of the truth from that time point on. @default [] */
  jumps?: ReadonlyArray<number | DriftJump>;
  /** Lateral size of jumps given as bare frames (nm). @default 200 */
  jumpSizeNm?: number;
}

export interface SimulatedImageStack {
  /** The stack; `readFrame(i)` renders time point i (Float32Array or Uint16Array). */
  stack: ImageStack;
  /** Synchronous form of `stack.readFrame`. */
  renderFrame(index: number): Float32Array | Uint16Array;
  /** Correction to add at each time point (truth.t[i] = i, truth.x[0] = 0). */
  truth: DriftTrace;
}

/** The PSF is cut off beyond this many standard deviations. */
const PSF_CUTOFF_SD = 4;
/** Emitter spacing along filaments, as a fraction of the PSF sigma (dense enough to look continuous). */
const EMITTER_SPACING_PER_SIGMA = 0.25;
/** Filaments keep this far from the field edge, beyond the drift and the PSF (fraction of the side). */
const MARGIN_FRACTION = 0.05;
/** Structures fill this fraction of the volume's z extent. */
const Z_FILL_FRACTION = 0.6;
/** …and keep this many axial PSF sigmas (plus the z drift) from the top and bottom planes. */
const Z_PSF_MARGIN_SD = 2;
const UINT16_MAX = 65535;
/** Random stream of the camera's fixed per-pixel maps (offset pattern, read noise spread); frames use 1 … frames. */
const CAMERA_MAP_STREAM = 0xffffffff;
/** Hot pixels: the least extra offset, and the mean excess above it (ADU). */
export const HOT_PIXEL_MIN_ADU = 200;
export const HOT_PIXEL_MEAN_EXCESS_ADU = 800;
/** Log-space spread of the per-pixel read noise of the sCMOS model (a few pixels are much noisier). */
const SCMOS_READ_NOISE_SPREAD_LOG = 0.4;

interface CameraModel {
  kind: 'poisson' | 'scmos' | 'emccd';
  readNoiseE: number;
  adPerElectron: number;
  emGain: number;
  offsetPatternSd: number;
  hotPixels: number;
}

const CAMERA_DEFAULTS: Record<CameraModel['kind'], Omit<CameraModel, 'kind'>> = {
  poisson: { readNoiseE: 0, adPerElectron: 1, emGain: 1, offsetPatternSd: 0, hotPixels: 0 },
  scmos: { readNoiseE: 1.6, adPerElectron: 0.5, emGain: 1, offsetPatternSd: 2, hotPixels: 0 },
  emccd: { readNoiseE: 50, adPerElectron: 0.1, emGain: 100, offsetPatternSd: 0, hotPixels: 0 },
};

function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${name} must be a positive integer; received ${value}`);
}
function positiveFinite(name: string, value: number): void {
  if (!(value > 0) || !Number.isFinite(value)) throw new UsageError(`${name} must be a finite number > 0; received ${value}`);
}

/**
 * Fractions of a unit Gaussian (centre `c`, sd `s`, in pixel units) falling in each pixel
 * [i − 0.5, i + 0.5) of i0..i0+weights.length−1, written into `weights`.
 */
function pixelWeights(c: number, s: number, i0: number, weights: Float64Array): void {
  const k = 1 / (Math.SQRT2 * s);
  let previous = erf((i0 - 0.5 - c) * k);
  for (let j = 0; j < weights.length; j++) {
    const next = erf((i0 + j + 0.5 - c) * k);
    weights[j] = 0.5 * (next - previous);
    previous = next;
  }
}

export function simulateImageStack(options: SimulateImageStackOptions = {}): SimulatedImageStack {
  const frames = options.frames ?? 50;
  const pixelNm = options.pixelNm ?? 20;
  const dim = options.dim ?? 2;
  const seed = options.seed ?? 1;
  if (dim !== 2 && dim !== 3) throw new UsageError(`dim must be 2 or 3; received ${dim}`);
  positiveInteger('frames', frames);
  positiveFinite('pixelNm', pixelNm);
  const fine = pixelNm < 50;
  const width = options.width ?? (fine ? 256 : 128);
  const height = options.height ?? (fine ? 256 : 128);
  const depth = dim === 3 ? (options.depth ?? 8) : 1;
  const zStepNm = options.zStepNm ?? 100;
  const dtype = options.dtype ?? (fine ? 'float32' : 'uint16');
  if (dtype !== 'float32' && dtype !== 'uint16') {
    throw new UsageError(`dtype must be 'float32' or 'uint16'; received ${String(dtype)}`);
  }
  const psfSigmaNm = options.psfSigmaNm ?? (dtype === 'float32' ? 1.5 * pixelNm : 130);
  const psfSigmaZNm = options.psfSigmaZNm ?? 2.5 * psfSigmaNm;
  const persistenceLengthNm = options.persistenceLengthNm ?? 1500;
  const signalPeak = options.signalPeak ?? (dtype === 'float32' ? 100 : 200);
  const backgroundPhotons = options.backgroundPhotons ?? 10;
  const offset = options.offset ?? 100;
  const noiseSd = options.noiseSd ?? 1;
  const cameraKind = options.camera ?? 'poisson';
  if (!(cameraKind in CAMERA_DEFAULTS)) throw new UsageError(`camera must be 'poisson', 'scmos' or 'emccd'; received ${String(cameraKind)}`);
  const camera: CameraModel = {
    kind: cameraKind,
    readNoiseE: options.readNoiseE ?? CAMERA_DEFAULTS[cameraKind].readNoiseE,
    adPerElectron: options.adPerElectron ?? CAMERA_DEFAULTS[cameraKind].adPerElectron,
    emGain: options.emGain ?? CAMERA_DEFAULTS[cameraKind].emGain,
    offsetPatternSd: options.offsetPatternSd ?? CAMERA_DEFAULTS[cameraKind].offsetPatternSd,
    hotPixels: options.hotPixels ?? 0,
  };
  const driftAmplitudeNm = options.driftAmplitudeNm ?? 200;
  const driftAmplitudeZNm = options.driftAmplitudeZNm ?? 100;
  const jumpSizeNm = options.jumpSizeNm ?? 200;
  positiveInteger('width', width);
  positiveInteger('height', height);
  positiveInteger('depth', depth);
  for (const [name, value] of [
    ['zStepNm', zStepNm],
    ['psfSigmaNm', psfSigmaNm],
    ['psfSigmaZNm', psfSigmaZNm],
    ['signalPeak', signalPeak],
  ] as const) {
    positiveFinite(name, value);
  }
  for (const [name, value] of [
    ['backgroundPhotons', backgroundPhotons],
    ['offset', offset],
    ['noiseSd', noiseSd],
    ['readNoiseE', camera.readNoiseE],
    ['offsetPatternSd', camera.offsetPatternSd],
    ['hotPixels', camera.hotPixels],
  ] as const) {
    if (!(value >= 0) || !Number.isFinite(value)) throw new UsageError(`${name} must be a finite number ≥ 0; received ${value}`);
  }

  const rng = createRandom(seed);
  const { trace: truth, jumps } = simulateDriftTrace(rng, {
    frames,
    dim,
    amplitudeNm: driftAmplitudeNm,
    amplitudeZNm: driftAmplitudeZNm,
    jumps: options.jumps ?? [],
    jumpSizeNm,
  });

  // Keep the structure inside the field whatever the drift, so nothing drifts out of view.
  let maxShiftX = 0;
  let maxShiftY = 0;
  for (let i = 0; i < frames; i++) {
    maxShiftX = Math.max(maxShiftX, Math.abs(truth.x[i]));
    maxShiftY = Math.max(maxShiftY, Math.abs(truth.y[i]));
  }
  const widthNm = width * pixelNm;
  const heightNm = height * pixelNm;
  const edgeNm = PSF_CUTOFF_SD * psfSigmaNm;
  const bounds: [number, number, number, number] = [
    MARGIN_FRACTION * widthNm + maxShiftX + edgeNm,
    (1 - MARGIN_FRACTION) * widthNm - maxShiftX - edgeNm,
    MARGIN_FRACTION * heightNm + maxShiftY + edgeNm,
    (1 - MARGIN_FRACTION) * heightNm - maxShiftY - edgeNm,
  ];
  if (!(bounds[1] > bounds[0]) || !(bounds[3] > bounds[2])) {
    throw new UsageError(
      `the field (${width}×${height} pixels of ${pixelNm} nm) is too small for a drift of up to ` +
        `${Math.round(Math.max(maxShiftX, maxShiftY))} nm plus the PSF; use a larger width/height or a smaller driftAmplitudeNm`,
    );
  }
  const regionArea = (bounds[1] - bounds[0]) * (bounds[3] - bounds[2]);
  const filaments = options.filaments ?? Math.max(2, Math.round(regionArea / 4e6));
  const spacingNm = EMITTER_SPACING_PER_SIGMA * psfSigmaNm;
  // Planes sit at z = (k − (depth − 1)/2)·zStepNm, centred on z = 0.
  // Structures fill part of the z extent, less where the z drift and the axial PSF would
  // carry them out of the volume (flat at z = 0 when the PSF is deeper than the volume).
  let maxShiftZ = 0;
  for (let i = 0; i < frames; i++) maxShiftZ = Math.max(maxShiftZ, Math.abs(truth.z[i]));
  const zExtentNm = depth * zStepNm;
  const zHalfRangeNm = dim === 3 ? Math.max(0, Math.min(0.5 * Z_FILL_FRACTION * zExtentNm, 0.5 * zExtentNm - maxShiftZ - Z_PSF_MARGIN_SD * psfSigmaZNm)) : 0;
  const chains = simulateFilaments(rng, {
    count: filaments,
    boundsNm: bounds,
    zHalfRangeNm,
    persistenceLengthNm,
    meanLengthNm: 0.5 * Math.min(bounds[1] - bounds[0], bounds[3] - bounds[2]),
    stepNm: spacingNm,
  });
  const emitterCount = chains.x.length;

  // Each emitter's integrated intensity such that a straight filament in focus peaks at
  // `signalPeak` per pixel: peak ≈ I·pixel²/(spacing·√(2π)·σ) (times the z fraction in 3D).
  const sigmaPx = psfSigmaNm / pixelNm;
  const sigmaPlanes = psfSigmaZNm / zStepNm;
  const lineFraction = pixelNm / (spacingNm * Math.sqrt(2 * Math.PI) * sigmaPx);
  const zFraction = dim === 3 ? Math.min(1, 1 / (Math.sqrt(2 * Math.PI) * sigmaPlanes)) : 1;
  if (options.photonsPerEmitter !== undefined) positiveFinite('photonsPerEmitter', options.photonsPerEmitter);
  // photonsPerEmitter counts what one exposure (a 2D frame, or the in-focus plane of a volume) collects.
  const emitterIntensity = options.photonsPerEmitter !== undefined ? options.photonsPerEmitter / zFraction : signalPeak / (lineFraction * zFraction);
  for (const [name, value] of [
    ['adPerElectron', camera.adPerElectron],
    ['emGain', camera.emGain],
  ] as const)
    positiveFinite(name, value);

  const halfX = Math.ceil(PSF_CUTOFF_SD * sigmaPx);
  const halfZ = dim === 3 ? Math.ceil(PSF_CUTOFF_SD * sigmaPlanes) : 0;
  const wx = new Float64Array(2 * halfX + 1);
  const wy = new Float64Array(2 * halfX + 1);
  const wz = new Float64Array(2 * halfZ + 1);
  const plane = width * height;
  const voxels = plane * depth;

  function renderSignal(index: number): Float64Array {
    const image = new Float64Array(voxels);
    // Pixel i covers [i·pixel, (i+1)·pixel), so its centre is at (i + 0.5)·pixel.
    const dx = truth.x[index];
    const dy = truth.y[index];
    const dz = truth.z[index];
    const zCentre = (depth - 1) / 2;
    for (let e = 0; e < emitterCount; e++) {
      const cx = (chains.x[e] - dx) / pixelNm - 0.5;
      const cy = (chains.y[e] - dy) / pixelNm - 0.5;
      const ix0 = Math.round(cx) - halfX;
      const iy0 = Math.round(cy) - halfX;
      pixelWeights(cx, sigmaPx, ix0, wx);
      pixelWeights(cy, sigmaPx, iy0, wy);
      let iz0 = 0;
      if (dim === 3) {
        const cz = (chains.z[e] - dz) / zStepNm + zCentre;
        iz0 = Math.round(cz) - halfZ;
        pixelWeights(cz, sigmaPlanes, iz0, wz);
      } else {
        wz[0] = 1;
      }
      for (let kz = 0; kz < wz.length; kz++) {
        const iz = iz0 + kz;
        if (iz < 0 || iz >= depth) continue;
        const az = emitterIntensity * wz[kz];
        for (let ky = 0; ky < wy.length; ky++) {
          const iy = iy0 + ky;
          if (iy < 0 || iy >= height) continue;
          const azy = az * wy[ky];
          const rowBase = (iz * height + iy) * width;
          for (let kx = 0; kx < wx.length; kx++) {
            const ix = ix0 + kx;
            if (ix < 0 || ix >= width) continue;
            image[rowBase + ix] += azy * wx[kx];
          }
        }
      }
    }
    return image;
  }

  function renderFrame(index: number): Float32Array | Uint16Array {
    if (!Number.isInteger(index) || index < 0 || index >= frames) {
      throw new UsageError(`frame index must be an integer in [0, ${frames - 1}]; received ${index}`);
    }
    const signal = renderSignal(index);
    // Stream index + 1: stream 0 is the structure's generator.
    const noise = createRandom(seed, index + 1);
    if (dtype === 'float32') {
      const out = new Float32Array(voxels);
      for (let v = 0; v < voxels; v++) out[v] = signal[v] + (noiseSd > 0 ? noiseSd * noise.normal() : 0);
      return out;
    }
    const out = new Uint16Array(voxels);
    if (camera.kind === 'poisson' && camera.readNoiseE === 0 && camera.offsetPatternSd === 0 && camera.hotPixels === 0 && camera.adPerElectron === 1) {
      for (let v = 0; v < voxels; v++) {
        out[v] = Math.min(UINT16_MAX, Math.round(offset) + noise.poisson(backgroundPhotons + signal[v]));
      }
      return out;
    }
    const maps = cameraMaps();
    const { adPerElectron, emGain } = camera;
    for (let v = 0; v < voxels; v++) {
      let electrons = noise.poisson(backgroundPhotons + signal[v]);
      if (camera.kind === 'emccd' && electrons > 0) electrons = noise.gamma(electrons, emGain);
      const counts = offset + maps.offset[v] + adPerElectron * (electrons + maps.readNoise[v] * noise.normal());
      out[v] = Math.min(UINT16_MAX, Math.max(0, Math.round(counts)));
    }
    return out;
  }

  /** The camera's fixed per-pixel offset pattern (ADU) and read noise (electrons), made once. */
  let mapCache: { offset: Float32Array; readNoise: Float32Array } | undefined;
  function cameraMaps(): { offset: Float32Array; readNoise: Float32Array } {
    if (mapCache) return mapCache;
    const r = createRandom(seed, CAMERA_MAP_STREAM);
    const offsetMap = new Float32Array(voxels);
    const readNoise = new Float32Array(voxels);
    for (let v = 0; v < voxels; v++) {
      offsetMap[v] = camera.offsetPatternSd * r.normal();
      readNoise[v] = camera.kind === 'scmos' ? r.lognormal(camera.readNoiseE, SCMOS_READ_NOISE_SPREAD_LOG) : camera.readNoiseE;
    }
    for (let k = 0; k < camera.hotPixels; k++) {
      const v = Math.min(voxels - 1, Math.floor(r.uniform() * voxels));
      offsetMap[v] += HOT_PIXEL_MIN_ADU - HOT_PIXEL_MEAN_EXCESS_ADU * Math.log(1 - r.uniform());
    }
    mapCache = { offset: offsetMap, readNoise };
    return mapCache;
  }

  const metadata: Metadata = {
    'ccdrift.simulation': {
      frames,
      pixelNm,
      dim,
      seed,
      width,
      height,
      depth,
      zStepNm,
      dtype,
      psfSigmaNm,
      psfSigmaZNm,
      filaments,
      persistenceLengthNm,
      signalPeak,
      backgroundPhotons,
      offset,
      noiseSd,
      camera: { ...camera },
      emitterIntensity,
      driftAmplitudeNm,
      driftAmplitudeZNm,
      jumpSizeNm,
      jumps: jumps.map((j) => ({ frame: j.frame, xNm: j.xNm, yNm: j.yNm, zNm: j.zNm })),
    },
    'voxelsize.x': pixelNm / 1000,
    'voxelsize.y': pixelNm / 1000,
    'voxelsize.z': zStepNm / 1000,
    'voxelsize.units': 'um',
  };
  const stack: ImageStack = {
    width,
    height,
    depth,
    frames,
    dtype: dtype,
    voxelSizeNm: [pixelNm, pixelNm, zStepNm],
    metadata,
    readFrame: async (index: number): Promise<NumericArray> => renderFrame(index),
  };
  return { stack, renderFrame, truth };
}
