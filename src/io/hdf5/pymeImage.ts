/**
 * PYME image stacks (`.h5`, PyTables): `/ImageData` of shape (T, X, Y) — C order, so y is the
 * fastest axis on disk, whereas ccdrift frames have x fastest (src/core/types.ts): every frame
 * is transposed on the way in and out. Frames are read lazily, one hyperslab each.
 */
import { param } from '../../core/messageParams.js';
import { checkAllocation } from '../../core/memoryLimit.js';
import { InputError, UsageError } from '../../core/errors.js';
import type { ImageDtype, ImageStack, Metadata, MetadataKind, NumericArray } from '../../core/types.js';
import type { ImageFormat } from '../formats.js';
import { readEvents, writeEvents } from './events.js';
import { readMetadataTreeWithKinds, writeMetadataTree, writeNumberAttribute, writePyTablesGroupAttrs, writeSystemAttribute } from './attributes.js';
import type { ColumnDtype, TypeMetadata } from './compoundTable.js';
import { H5S_UNLIMITED, H5T, mallocChecked, openForReading, openForWriting, withFile, type H5File, type H5Module } from './h5Library.js';
import { listTables } from './pymeTable.js';
import { allocateImageArray } from '../../core/image/allocateImageArray.js';

/** zlib level of written stacks (PYME's own default for image data is 1 too). */
const DEFLATE_LEVEL = 1;
/** A handle opened for lazy frame reads is closed after this long without reads. */
const IDLE_CLOSE_MS = 2000;

const DTYPES: Record<ImageDtype, ColumnDtype> = {
  uint8: 'u1',
  uint16: 'u2',
  int16: 'i2',
  uint32: 'u4',
  int32: 'i4',
  float32: 'f4',
  float64: 'f8',
};

function imageDtypeOf(meta: TypeMetadata): ImageDtype | null {
  if (meta.type === H5T.FLOAT) return meta.size === 4 ? 'float32' : meta.size === 8 ? 'float64' : null;
  if (meta.type !== H5T.INTEGER) return null;
  const code = `${meta.signed ? 'i' : 'u'}${meta.size}`;
  const found = (Object.keys(DTYPES) as ImageDtype[]).find((k) => DTYPES[k] === code);
  return found ?? null;
}

/** Voxel size in nm from PYME's `voxelsize.{x,y,z}` (+ `units`, µm by default). */
export function voxelSizeFromMetadata(metadata: Metadata): [number, number, number] | undefined {
  const x = metadata['voxelsize.x'];
  const y = metadata['voxelsize.y'];
  if (typeof x !== 'number' || typeof y !== 'number') return undefined;
  const z = typeof metadata['voxelsize.z'] === 'number' ? metadata['voxelsize.z'] : 1;
  const units = metadata['voxelsize.units'] ?? 'um';
  const scale = units === 'nm' ? 1 : units === 'um' || units === 'µm' ? 1000 : NaN;
  if (!Number.isFinite(scale)) return undefined;
  return [x * scale, y * scale, z * scale];
}

/** A lazily opened, idle-closed read handle for one file. */
class LazyFile {
  private opened?: { module: H5Module; file: H5File };
  private timer?: NodeJS.Timeout;
  constructor(private readonly path: string) {}

  async use<T>(body: (module: H5Module, file: H5File) => T): Promise<T> {
    this.opened ??= await openForReading(this.path);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.close(), IDLE_CLOSE_MS);
    this.timer.unref?.(); // browsers: a number, nothing to unref
    return body(this.opened.module, this.opened.file);
  }

  close(): void {
    this.opened?.file.close();
    this.opened = undefined;
  }
}

/** Open a PYME `.h5` image stack; frames are read when asked for. */
/** The metadata tree as an ImageStack holds it. */
function metadataOf({ metadata, kinds }: { metadata: Metadata; kinds: Map<string, MetadataKind> }): {
  metadata: Metadata;
  metadataKinds: Map<string, MetadataKind>;
} {
  return { metadata, metadataKinds: kinds };
}

export async function readPymeImage(path: string, options: { voxelSizeNm?: [number, number, number] } = {}): Promise<ImageStack> {
  const info = await withFile(await openForReading(path), path, (module, file) => {
    if (module.get_type(file.file_id, '/ImageData') !== module.H5G_DATASET) {
      const { tables, others } = listTables(module, file);
      if (tables.some((t) => t.path !== '/Events')) {
        throw new InputError(
          `${path}: this is a localization table (${tables.map((t) => t.path.slice(1)).join(', ')}), not an image stack; use \`ccdrift locs\``,
        );
      }
      throw new InputError(`${path}: no /ImageData (a PYME image stack); datasets in the file: ${others.map((o) => o.slice(1)).join(', ') || '(none)'}`);
    }
    const meta = module.get_dataset_metadata(file.file_id, '/ImageData') as unknown as TypeMetadata & { shape: number[] | null };
    const dtype = imageDtypeOf(meta);
    const shape = meta.shape ?? [];
    if (!dtype || (shape.length !== 3 && shape.length !== 2)) {
      throw new InputError(
        `${path}: /ImageData must be a (T, X, Y) or (X, Y) array of integers or floats; received shape (${shape.join(', ')}), ` +
          `type class ${meta.type} of ${meta.size} bytes`,
      );
    }
    const events = readEvents(module, file, path);
    return { dtype, shape: shape.length === 2 ? [1, ...shape] : shape, rank: shape.length, events, ...metadataOf(readMetadataTreeWithKinds(module, file)) };
  });
  const [frames, width, height] = info.shape;
  const voxelSizeNm = options.voxelSizeNm ?? voxelSizeFromMetadata(info.metadata);
  if (!voxelSizeNm) {
    throw new InputError(`${path}: no voxel size in /MetaData/voxelsize (x, y, units); give it with ${param('voxelSizeNm')} (x, y, z in nm)`);
  }
  const lazy = new LazyFile(path);
  const frameBytes = width * height * (DTYPES[info.dtype] === 'f8' ? 8 : Number(DTYPES[info.dtype].slice(1)));
  // The shape comes from the file (a chunked dataset may declare any size): a frame must fit,
  // twice (the HDF5 heap and the array handed on).
  checkAllocation(2 * frameBytes, `one frame of ${path} (/ImageData: ${width} × ${height} ${info.dtype} pixels, as the file declares)`, 'is the file corrupt?');
  return {
    width,
    height,
    depth: 1,
    frames,
    dtype: info.dtype,
    voxelSizeNm,
    metadata: info.metadata,
    metadataKinds: info.metadataKinds,
    ...(info.events && { events: info.events }),
    async readFrame(index: number): Promise<NumericArray> {
      if (!Number.isInteger(index) || index < 0 || index >= frames) {
        throw new RangeError(`${path}: frame ${index} is out of range 0..${frames - 1}`);
      }
      return lazy.use((module, file) => {
        const ptr = mallocChecked(module, frameBytes);
        try {
          const count = info.rank === 3 ? [1n, BigInt(width), BigInt(height)] : [BigInt(width), BigInt(height)];
          const offset = info.rank === 3 ? [BigInt(index), 0n, 0n] : [0n, 0n];
          const strides = count.map(() => 1n);
          module.get_dataset_data(file.file_id, '/ImageData', count, offset, strides, BigInt(ptr));
          const out = allocateImageArray(info.dtype, width * height);
          const Ctor = out.constructor as new (b: ArrayBuffer, o: number, n: number) => NumericArray;
          const src = new Ctor(module.HEAPU8.buffer as ArrayBuffer, ptr, width * height);
          // file: src[x * height + y]; ccdrift: out[y * width + x]
          for (let x = 0; x < width; x++) {
            const row = x * height;
            for (let y = 0; y < height; y++) out[y * width + x] = src[row + y];
          }
          return out;
        } finally {
          module._free(ptr);
        }
      });
    },
  };
}

/** Write `stack` as PYME does: an extendable `/ImageData` (T, X, Y) EArray plus `/MetaData`. */
export async function writePymeImage(
  temporaryPaths: string[],
  stack: ImageStack,
  _options: { inputs?: string[] } = {},
  target = temporaryPaths[0],
): Promise<void> {
  if (stack.depth !== 1) {
    throw new UsageError(`${target}: PYME .h5 stacks hold 2D frames; this stack has ${stack.depth} z planes per time point — write it as TIFF`);
  }
  const { width, height, frames } = stack;
  const dtype = DTYPES[stack.dtype];
  const size = Number(dtype.slice(1));
  const opened = await openForWriting(temporaryPaths[0]);
  const module = opened.module;
  const id = opened.file.file_id;
  let ptr = 0;
  try {
    writePyTablesGroupAttrs(module, id, '/');
    ptr = mallocChecked(module, width * height * size);
    module.create_dataset(id, '/ImageData', BigInt(ptr), {
      type: dtype.startsWith('f') ? H5T.FLOAT : H5T.INTEGER,
      size,
      signed: !dtype.startsWith('u'),
      vlen: false,
      littleEndian: true,
      shape: [0n, BigInt(width), BigInt(height)],
      maxshape: [H5S_UNLIMITED, BigInt(width), BigInt(height)],
      chunks: [1n, BigInt(width), BigInt(height)],
      compression: 1,
      compression_opts: [DEFLATE_LEVEL],
      track_order: false,
    } as never);
    writeSystemAttribute(module, id, '/ImageData', 'CLASS', 'EARRAY');
    writeNumberAttribute(module, id, '/ImageData', 'EXTDIM', 0, 'i4');
    writeSystemAttribute(module, id, '/ImageData', 'TITLE', '');
    writeSystemAttribute(module, id, '/ImageData', 'VERSION', '1.1');
    module.resize_dataset(id, '/ImageData', [BigInt(frames), BigInt(width), BigInt(height)]);
    const count = [1n, BigInt(width), BigInt(height)];
    for (let t = 0; t < frames; t++) {
      const frame = await stack.readFrame(t);
      const Ctor = allocateImageArray(stack.dtype, 0).constructor as new (b: ArrayBuffer, o: number, n: number) => NumericArray;
      const dst = new Ctor(module.HEAPU8.buffer as ArrayBuffer, ptr, width * height);
      for (let x = 0; x < width; x++) {
        const row = x * height;
        for (let y = 0; y < height; y++) dst[row + y] = frame[y * width + x];
      }
      module.set_dataset_data(id, '/ImageData', count, [BigInt(t), 0n, 0n], [1n, 1n, 1n], BigInt(ptr));
    }
    const metadata: Metadata = { ...stack.metadata };
    metadata['voxelsize.x'] = stack.voxelSizeNm[0] / 1000;
    metadata['voxelsize.y'] = stack.voxelSizeNm[1] / 1000;
    metadata['voxelsize.z'] = stack.voxelSizeNm[2] / 1000;
    metadata['voxelsize.units'] = 'um';
    const kinds = new Map(stack.metadataKinds ?? []);
    for (const axis of ['x', 'y', 'z']) kinds.set(`voxelsize.${axis}`, 'f8');
    writeMetadataTree(module, id, metadata, '/MetaData', kinds);
    if (stack.events) writeEvents(module, id, stack.events);
  } finally {
    if (ptr) module._free(ptr);
    opened.file.close();
  }
}

export const pymeImageFormat: ImageFormat = {
  name: 'PYME image stack (PyTables HDF5)',
  extensions: ['.h5'],
  read: readPymeImage,
  write: writePymeImage,
};
