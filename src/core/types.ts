/**
 * The ccdrift data model, stated once. Every module refers here for units, layouts and the
 * drift sign convention.
 *
 * Units: lengths in nanometres, times in frames (0-based frame index, as PYME's `t`/`tIndex`;
 * readers of 1-based formats such as ThunderSTORM convert).
 *
 * Drift sign convention (identical to the original PYME plugin, so drift files are
 * interchangeable): a drift trace holds the CORRECTION TO ADD,
 *     x_corrected = x + drift.x(t),
 * and its first sample is 0 by construction.
 *
 * Image layout: one frame (or volume) is a typed array with x fastest:
 *     data[(z * height + y) * width + x].
 */

/** Any numeric typed array a column may be stored in (the type records the file's dtype). */
export type NumericArray = Float64Array | Float32Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** Metadata values, JSON-like. Keys are flat and PYME-style: `voxelsize.x`, `Camera.CycleTime`. */
export type MetaValue = string | number | boolean | null | MetaValue[] | { [key: string]: MetaValue };
export type Metadata = Record<string, MetaValue>;

/**
 * Storage element type of a table column, spelled as numpy does (`f4` = float32, `i8` = int64).
 * Columns are computed in whatever typed array suits the work; this records what the file
 * holds, so a write-back keeps it. 64-bit integers live in a Float64Array (exact to 2^53).
 */
export type ColumnDtype = 'i1' | 'u1' | 'i2' | 'u2' | 'i4' | 'u4' | 'i8' | 'u8' | 'f4' | 'f8';

/**
 * How a metadata value is stored in its file (an HDF5 attribute), so a write-back stores it the
 * same way: a scalar number's exact dtype, a numpy bool, a text string (UTF-8, Python `str`), a
 * byte string (ASCII set, Python `bytes`), a pickle (a pickled tuple: 'tuple', so `(0, 20)`
 * does not come back as the list `[0, 20]`); 'int' / 'float' for numeric arrays.
 */
export type MetadataKind = ColumnDtype | 'int' | 'float' | 'bool' | 'string' | 'bytes' | 'pickle' | 'tuple';

/**
 * A localization table: equal-length columns. `x`, `y` (nm) and `t` (frames) are required,
 * `z` (nm) optional; every other column is carried through unchanged.
 */
export interface LocTable {
  /** Number of rows. */
  length: number;
  /** Columns in file order. */
  columns: Map<string, NumericArray>;
  /**
   * Storage dtype of each column, by name: what the file held, or what the step that made the
   * column chose (core/columnDtypes.ts). A column without an entry is stored as its typed
   * array's own type. Whatever copies or derives a table carries the entries of the columns it
   * keeps (`withColumnDtypes`), so a written table keeps its input's dtypes.
   */
  dtypes?: Map<string, ColumnDtype>;
  /** Storage kind of each metadata key the file stated (absent: inferred from the value). */
  metadataKinds?: Map<string, MetadataKind>;
  /** Everything the file said about itself; travels with the table. */
  metadata: Metadata;
  /**
   * Names and units of the columns as the source format has them ('picasso': `lpx` in camera
   * pixels…; absent: PYME's names in nm, as ccdrift makes tables). Writers convert from it.
   */
  convention?: TableConvention;
  /** Processing history the source carried (the documents of Picasso's `.yaml`); writers extend it. */
  history?: unknown[];
  /** Acquisition events of the source (PYME's `/Events`), written back unchanged. */
  events?: AcquisitionEvent[];
}

/** Column names and units of a localization format (see io/columnConventions.ts). */
export type TableConvention = 'pyme' | 'picasso' | 'thunderstorm';

/**
 * An acquisition event as PYME records it in `/Events`: a name (`StartAq`, `ProtocolTask`,
 * `ShiftMeasure`, `ProtocolFocus`…), its text, and the time (s since the epoch).
 */
export interface AcquisitionEvent {
  name: string;
  description: string;
  time: number;
}

/**
 * Drift samples: the correction to ADD (see above) in nm at sample times `t` (frames).
 * Columns of equal length; `z` is all zero for 2D data.
 */
export interface DriftTrace {
  t: Float64Array;
  x: Float64Array;
  y: Float64Array;
  z: Float64Array;
  /**
   * Frames where the drift jumps (a stage step): the drift model breaks there, so frames ≥ a
   * break follow the samples after it only. Absent: none.
   */
  breaks?: Float64Array;
  /** Standard error of each sample per axis (nm), when known; sets the weights of smoothing 'auto'. */
  sd?: { x: Float64Array; y: Float64Array; z: Float64Array };
  /** Measured by ccdrift's fine stage (its files are smoothed 'auto' by default on loading). */
  refined?: boolean;
}

/** How a drift interpolator continues beyond its first and last sample. */
export type Extrapolation = 'linear' | 'spline' | 'constant';

/**
 * A drift interpolator: the correction to add at any real frame time, extrapolating
 * beyond the samples according to its `extrapolation` mode.
 */
export interface DriftInterpolator {
  /** Evaluate at times `t` (frames). Returns a trace with a copy of `t`. */
  evaluate(t: ArrayLike<number>): DriftTrace;
  /**
   * Standard error (nm, per axis) of the evaluated drift at times `t`, the constant offset
   * removed, from the sources' sample standard errors; undefined when a source has none.
   */
  evaluateSd?(t: ArrayLike<number>): { x: Float64Array; y: Float64Array; z: Float64Array } | undefined;
  /** The measured samples each source contributed (one per loaded/measured trace), for plots. */
  readonly sources: readonly DriftTrace[];
  /** First and last sample time over all sources. */
  readonly range: readonly [number, number];
  readonly extrapolation: Extrapolation;
}

/** Element types an image stack may have on disk. */
export type ImageDtype = 'uint8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

/**
 * An image time series: 2D frames (depth = 1) or volumes over time. Frames are read lazily
 * so stacks larger than memory can be processed one time point at a time.
 */
export interface ImageStack {
  width: number;
  height: number;
  /** z planes per time point (1 for 2D). */
  depth: number;
  /** Number of time points. */
  frames: number;
  dtype: ImageDtype;
  /** Voxel size in nm, [x, y, z]. */
  voxelSizeNm: [number, number, number];
  metadata: Metadata;
  /** Storage kind of each metadata key the file stated (absent: inferred); derived stacks carry it. */
  metadataKinds?: Map<string, MetadataKind>;
  /** Acquisition events of the source (PYME's `/Events`: focus steps, protocol tasks), written back unchanged. */
  events?: AcquisitionEvent[];
  /** One time point, layout as stated at the top of this file. */
  readFrame(index: number): Promise<NumericArray>;
}

/** Progress and warnings reach the outside world through this; the core never prints. */
export interface ProgressReporter {
  /** A named stage starts with `total` units of work. */
  start?(stage: string, total: number): void;
  /** `done` units of the current stage are complete. */
  update?(done: number): void;
  /** The current stage is finished. */
  stop?(): void;
  /** Something the user should know that does not stop the work. */
  warn?(message: string): void;
}
