import type { ImageDtype, NumericArray } from '../types.js';

/** A zeroed typed array of `n` elements for an image dtype (one place for the mapping). */
export function allocateImageArray(dtype: ImageDtype, n: number): NumericArray {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(n);
    case 'uint16':
      return new Uint16Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
  }
}
