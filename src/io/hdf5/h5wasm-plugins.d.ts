/** Types for the untyped `h5wasm-plugins` package (compression filters for h5wasm). */
declare module 'h5wasm-plugins' {
  /** Adds the package's bundled filter plugins (blosc, lz4, zstd, bshuf, …) to HDF5's search path. */
  export function install_local_plugins(module: object): void;
  export const plugin_names: string[];
}
