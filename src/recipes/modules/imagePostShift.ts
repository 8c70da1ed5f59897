import { applyDriftToStack } from '../../core/image/applyDriftToStack.js';
import { z } from 'zod';
import { defineModule, schemas } from '../declare.js';

export const imagePostShift = defineModule({
  name: 'chung_cc.Image_Post_Shift',
  summary: 'Correct an image stack: shift every frame by the interpolated drift at its time (sub-pixel Fourier shift after zero padding; volumes in 3D).',
  inputs: {
    input_image: { kind: 'image', default: 'input', description: 'stack to correct (the original data, not the pre-filtered copy)' },
    input_drift_interpolator: { kind: 'interpolator', default: 'drift_interpolator', description: 'drift at any frame' },
  },
  outputs: {
    outputName: { kind: 'image', default: 'drift_corrected_image', description: 'corrected stack, same type as the input (integers rounded and clamped)' },
  },
  params: {
    padding_multipler: {
      schema: z.number().min(0),
      default: 1,
      unit: 'frame sizes',
      description: "zero padding on every side before the Fourier shift, as a multiple of the frame size (the original's spelling)",
      flag: 'padding-multiplier',
    },
    float_output: {
      schema: schemas.boolean,
      default: false,
      description: 'float32 frames instead of the input dtype (`ccdrift images --float`)',
    },
    cache_image: {
      schema: schemas.path,
      default: '',
      description: 'accepted for compatibility',
      compatibility: 'ignored: frames are shifted one at a time as they are written, so nothing is cached',
    },
  },
  async run(ctx, inputs, params) {
    const stack = inputs.input_image;
    const interp = inputs.input_drift_interpolator;
    return {
      outputName: applyDriftToStack(
        stack,
        interp,
        { paddingMultiplier: params.padding_multipler, floatOutput: params.float_output },
        { progress: ctx.progress },
      ),
    };
  },
});
