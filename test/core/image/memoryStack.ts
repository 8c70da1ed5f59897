import type { ImageDtype, ImageStack, Metadata, NumericArray } from '../../../src/core/types.js';

/** An in-memory ImageStack over the given frames (test helper); counts reads. */
export function memoryStack(
  frames: NumericArray[],
  shape: { width: number; height: number; depth?: number },
  options: { dtype?: ImageDtype; voxelSizeNm?: [number, number, number]; metadata?: Metadata } = {},
): ImageStack & { reads: number[] } {
  const reads: number[] = [];
  return {
    width: shape.width,
    height: shape.height,
    depth: shape.depth ?? 1,
    frames: frames.length,
    dtype: options.dtype ?? 'float32',
    voxelSizeNm: options.voxelSizeNm ?? [100, 100, 100],
    metadata: options.metadata ?? {},
    reads,
    async readFrame(i: number) {
      if (i < 0 || i >= frames.length) throw new RangeError(`frame ${i} out of range`);
      reads.push(i);
      return frames[i];
    },
  };
}
