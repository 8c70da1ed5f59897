import { z } from 'zod';
import { BACKGROUND_MODES, type BackgroundMode } from '../../core/image/clipFilter.js';
import { describeRemovedBackground, prefilterStack } from '../../core/image/prefilterStack.js';
import { defineModule, REPORT_KEY, schemas } from '../declare.js';

export const imagePreClipFilter = defineModule({
  name: 'chung_cc.Image_Pre_Clip&Filter',
  summary:
    'Pre-filter each frame for Image_RCC: median filter, clip intensities, subtract the lower clip value and the camera offset + background, taper with a Tukey window.',
  inputs: { input_name: { kind: 'image', default: 'input', description: 'image stack' } },
  outputs: { output_name: { kind: 'image', default: 'clipped_images', description: 'pre-filtered float32 stack (computed frame by frame as it is read)' } },
  params: {
    median_filter_size: {
      schema: z.number().int(),
      default: 1,
      unit: 'pixels',
      description:
        'side of the median filter box in x–y, edges replicated (≤ 1: off). Off by default: a 3 × 3 median blurs the structure and costs precision on camera frames; hot pixels are replaced on their own (background auto, integer data)',
      flag: 'median-filter-size',
    },
    threshold_lower: { schema: schemas.number, default: 0, unit: 'counts', description: 'values ≤ this become clip_to_lower', flag: 'threshold-lower' },
    clip_to_lower: {
      schema: schemas.number,
      default: 0,
      unit: 'counts',
      description: 'replacement for values ≤ threshold_lower; also subtracted from every pixel',
      flag: 'clip-to-lower',
    },
    threshold_upper: {
      schema: schemas.number,
      default: 65535,
      unit: 'counts',
      description: 'values ≥ this become clip_to_upper (hot pixels, saturation)',
      flag: 'threshold-upper',
    },
    clip_to_upper: { schema: schemas.number, default: 0, unit: 'counts', description: 'replacement for values ≥ threshold_upper', flag: 'clip-to-upper' },
    background: {
      schema: z.enum(BACKGROUND_MODES as [BackgroundMode, ...BackgroundMode[]]),
      default: 'auto',
      description:
        "camera offset + background removed before the window: 'auto' subtracts a smooth per-frame (per-plane) background map estimated by sigma-clipped tile means; 'none' as the original plugin (a pedestal left in pins the drift at zero)",
      flag: 'background',
    },
    tukey_size: {
      schema: schemas.fraction,
      default: 0.25,
      description: 'shape of the Tukey window multiplied in along x and y (and z for volumes): 0 none … 1 Hann',
      flag: 'tukey-size',
    },
    cache_clip: {
      schema: schemas.path,
      default: '',
      description: 'accepted for compatibility',
      compatibility: 'ignored: frames are filtered when they are read, so nothing is cached',
    },
  },
  async run(ctx, inputs, params) {
    const stack = inputs.input_name;
    const filtered = prefilterStack(stack, {
      medianFilterSize: params.median_filter_size,
      thresholdLower: params.threshold_lower,
      clipToLower: params.clip_to_lower,
      thresholdUpper: params.threshold_upper,
      clipToUpper: params.clip_to_upper,
      tukeySize: params.tukey_size,
      background: params.background,
    });
    const { line, warning } = await describeRemovedBackground(filtered);
    if (warning) ctx.progress?.warn?.(warning);
    return { output_name: filtered, [REPORT_KEY]: line };
  },
});
