import { z } from 'zod';
import { downsampleStack } from '../../core/image/downsample.js';
import { defineModule, schemas } from '../declare.js';

const binCount = z.number().int().min(1);

export const imagePreDownsample = defineModule({
  name: 'chung_cc.Image_Pre_Downsample',
  summary: 'Crop in x–y and average over x/y pixel bins and time bins; records recipe.binning so drift times stay in original frames.',
  inputs: { input_name: { kind: 'image', default: 'input', description: 'image stack' } },
  outputs: { output_name: { kind: 'image', default: 'downsampled_images', description: 'cropped and binned stack (computed as it is read)' } },
  params: {
    x_start: { schema: z.number().int().min(0), default: 0, unit: 'pixels', description: 'first x pixel kept (0-based)' },
    x_end: {
      schema: schemas.wholeNumber,
      default: -1,
      unit: 'pixels',
      description: 'end of the x range (exclusive); negative counts from the end, −1 = through the last pixel',
    },
    y_start: { schema: z.number().int().min(0), default: 0, unit: 'pixels', description: 'first y pixel kept (0-based)' },
    y_end: { schema: schemas.wholeNumber, default: -1, unit: 'pixels', description: 'end of the y range, as x_end' },
    binsize: {
      schema: z.tuple([binCount, binCount, binCount]),
      default: [1, 1, 1],
      unit: 'pixels, pixels, frames',
      description:
        'bin sizes [x, y, t]: pixels that do not fill a whole x/y bin are dropped, the last time bin may be partial; the voxel size grows accordingly',
    },
    cache_bin: {
      schema: schemas.path,
      default: '',
      description: 'accepted for compatibility',
      compatibility: 'ignored: bins are computed when frames are read, so nothing is cached',
    },
  },
  async run(_ctx, inputs, params) {
    const stack = inputs.input_name;
    return {
      output_name: downsampleStack(stack, {
        xStart: params.x_start,
        xEnd: params.x_end,
        yStart: params.y_start,
        yEnd: params.y_end,
        binning: params.binsize,
      }),
    };
  },
});
