/**
 * Image_Post_Shift, lazily (SPEC §4.5): every frame read through the returned stack is
 * translated by the drift correction at its time, with a sub-pixel Fourier shift after zero
 * padding (shift/fourierShift.ts). Frames are shifted one at a time as they are read, so a
 * writer that streams frames keeps memory bounded.
 *
 * Sign (core/types.ts): the drift is the correction to ADD, x_corrected = x + drift.x(t), so
 * the content of frame t moves by +drift(t) / voxel size pixels.
 */
import { checkPadding } from '../parameters.js';
import { sourceDescription } from './derivedStack.js';
import { UsageError } from '../errors.js';
import { createFourierShifter, type FourierShifter } from '../shift/fourierShift.js';
import type { DriftInterpolator, ImageDtype, ImageStack, NumericArray, ProgressReporter } from '../types.js';
import { frameTimes } from './frameTimes.js';
import { allocateImageArray } from './allocateImageArray.js';
import { param } from '../messageParams.js';

export interface ApplyDriftOptions {
  /** Zero padding on every side, as a multiple of the frame size. SPEC default 1 (`padding_multipler`). */
  paddingMultiplier: number;
  /** Write float32 frames instead of the input's type. Default false: same type, values rounded and clamped. */
  floatOutput?: boolean;
}

/** Value range of the integer types (rounded and clamped into it). */
const INTEGER_RANGE: Partial<Record<ImageDtype, [number, number]>> = {
  uint8: [0, 255],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  uint32: [0, 4294967295],
  int32: [-2147483648, 2147483647],
};

/** Convert shifted float values to `dtype`: integer types are rounded and clamped (ringing can overshoot the range). */
export function convertFrame(values: Float32Array, dtype: ImageDtype): NumericArray {
  if (dtype === 'float32') return values;
  const out = allocateImageArray(dtype, values.length);
  const range = INTEGER_RANGE[dtype];
  if (!range) {
    out.set(values);
    return out;
  }
  const [lo, hi] = range;
  for (let i = 0; i < values.length; i++) {
    const v = Math.round(values[i]);
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return out;
}

export interface DriftCorrectedStack extends ImageStack {
  /** Correction (nm) applied to each frame: x, y, z per frame. */
  readonly driftNm: { t: Float64Array; x: Float64Array; y: Float64Array; z: Float64Array };
  /** Release the FFT plan (WebAssembly memory). */
  dispose(): void;
}

/**
 * A view of `stack` whose frame i is shifted by drift(t_i) (t_i binning-aware, see
 * frameTimes). Warns through `progress` when frame times fall outside the drift's samples
 * (the interpolator then extrapolates in its own mode).
 */
export function applyDriftToStack(
  stack: ImageStack,
  drift: DriftInterpolator,
  options: ApplyDriftOptions,
  { progress }: { progress?: ProgressReporter } = {},
): DriftCorrectedStack {
  checkPadding(options.paddingMultiplier);
  const { width, height, depth, frames } = stack;
  const [vx, vy, vz] = stack.voxelSizeNm;
  for (const [axis, v] of [
    ['x', vx],
    ['y', vy],
    ['z', vz],
  ] as const) {
    if (axis === 'z' && depth === 1) continue;
    if (!(v > 0) || !Number.isFinite(v)) {
      throw new UsageError(`voxel size ${axis} is ${v} nm; shifting needs a positive voxel size (give it in nm: ${param('voxelSizeNm')}, e.g. 100,100,200)`);
    }
  }
  const t = frameTimes(stack.metadata, frames);
  const [first, last] = drift.range;
  if (frames > 0 && (t[0] < first || t[frames - 1] > last)) {
    progress?.warn?.(
      `the drift covers frames ${first}–${last} but the stack spans frames ${t[0]}–${t[frames - 1]}; ` +
        `frames outside are corrected by ${drift.extrapolation} extrapolation`,
    );
  }
  const trace = drift.evaluate(t);
  for (let i = 0; i < frames; i++) {
    if (!Number.isFinite(trace.x[i]) || !Number.isFinite(trace.y[i]) || !Number.isFinite(trace.z[i])) {
      throw new UsageError(`the drift at frame time ${t[i]} is not finite (${trace.x[i]}, ${trace.y[i]}, ${trace.z[i]} nm); check the drift file`);
    }
  }
  const dtype: ImageDtype = options.floatOutput ? 'float32' : stack.dtype;
  let shifter: Promise<FourierShifter> | undefined;
  const getShifter = () => (shifter ??= createFourierShifter({ width, height, depth }, options.paddingMultiplier));
  return {
    width,
    height,
    depth,
    frames,
    dtype,
    voxelSizeNm: [vx, vy, vz],
    metadata: { ...stack.metadata, 'recipe.post_shift.padding_multipler': options.paddingMultiplier },
    ...sourceDescription(stack),
    driftNm: trace,
    async readFrame(index: number) {
      if (!Number.isInteger(index) || index < 0 || index >= frames) throw new RangeError(`frame index ${index} is outside 0 … ${frames - 1}`);
      const frame = await stack.readFrame(index);
      const s = await getShifter();
      const shifted = s.shift(frame, [trace.x[index] / vx, trace.y[index] / vy, depth > 1 ? trace.z[index] / vz : 0]);
      return convertFrame(shifted, dtype);
    },
    dispose() {
      void shifter?.then((s) => s.dispose());
      shifter = undefined;
    },
  };
}
