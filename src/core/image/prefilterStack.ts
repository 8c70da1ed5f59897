/**
 * Image_Pre_Clip&Filter over a whole stack, lazily (SPEC §4.5): every frame read through the
 * returned stack is pre-filtered on demand, so long stacks never sit in memory.
 */
import type { ImageStack, Metadata } from '../types.js';
import { clipAndFilterFrame, validateClipFilterParams, type ClipFilterParams } from './clipFilter.js';

/** Metadata keys recording the settings (the original's parameter names). */
export const CLIP_FILTER_METADATA_PREFIX = 'recipe.clip_filter.';

/**
 * A float32 view of `stack` whose frames are median-filtered, clipped, offset-subtracted and
 * Tukey-tapered (`clipAndFilterFrame`). Voxel size and metadata are kept; the settings are
 * recorded under `recipe.clip_filter.*`.
 */
/** A pre-filtered stack that also says what it was made from, so the filter can be deferred. */
export interface PrefilteredStack extends ImageStack {
  prefilter: { source: ImageStack; params: ClipFilterParams };
}

export function isPrefilteredStack(stack: ImageStack): stack is PrefilteredStack {
  return typeof (stack as Partial<PrefilteredStack>).prefilter === 'object';
}

export function prefilterStack(stack: ImageStack, params: ClipFilterParams): PrefilteredStack {
  validateClipFilterParams(params);
  const { width, height, depth } = stack;
  const metadata: Metadata = {
    ...stack.metadata,
    [`${CLIP_FILTER_METADATA_PREFIX}median_filter_size`]: params.medianFilterSize,
    [`${CLIP_FILTER_METADATA_PREFIX}threshold_lower`]: params.thresholdLower,
    [`${CLIP_FILTER_METADATA_PREFIX}clip_to_lower`]: params.clipToLower,
    [`${CLIP_FILTER_METADATA_PREFIX}threshold_upper`]: params.thresholdUpper,
    [`${CLIP_FILTER_METADATA_PREFIX}clip_to_upper`]: params.clipToUpper,
    [`${CLIP_FILTER_METADATA_PREFIX}tukey_size`]: params.tukeySize,
  };
  return {
    width,
    height,
    depth,
    frames: stack.frames,
    dtype: 'float32',
    voxelSizeNm: [...stack.voxelSizeNm],
    metadata,
    prefilter: { source: stack, params },
    async readFrame(index: number) {
      return clipAndFilterFrame(await stack.readFrame(index), width, height, depth, params);
    },
  };
}
