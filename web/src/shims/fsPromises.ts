/** `node:fs/promises` for the browser worker, on the Emscripten FS (see vfs.ts). */
import { fsCall, vfs, type EmscriptenStream } from './vfs.js';

const encoder = new TextEncoder();

export class FileHandle {
  constructor(
    private readonly stream: EmscriptenStream,
    private readonly path: string,
  ) {}

  async read(buffer: Uint8Array, offset = 0, length = buffer.length - offset, position: number | null = null) {
    const n = fsCall('read', this.path, () => vfs().read(this.stream, buffer, offset, length, position ?? undefined));
    return { bytesRead: n, buffer };
  }

  async write(data: Uint8Array | string, offset?: number | null, length?: number, position?: number | null) {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    const from = typeof data === 'string' ? 0 : (offset ?? 0);
    const n = length ?? bytes.length - from;
    const written = fsCall('write', this.path, () => vfs().write(this.stream, bytes, from, n, position ?? undefined));
    return { bytesWritten: written, buffer: data };
  }

  async stat() {
    return stat(this.path);
  }

  async close(): Promise<void> {
    vfs().close(this.stream);
  }
}

export async function open(path: string, flags = 'r'): Promise<FileHandle> {
  return new FileHandle(
    fsCall('open', path, () => vfs().open(path, flags)),
    path,
  );
}

export async function stat(path: string) {
  const s = fsCall('stat', path, () => vfs().stat(path));
  const dir = vfs().isDir(s.mode);
  return { size: s.size, isDirectory: () => dir, isFile: () => !dir };
}

export async function readFile(path: string, options?: string | { encoding?: string }): Promise<string | Uint8Array> {
  const encoding = typeof options === 'string' ? options : options?.encoding;
  if (encoding) return fsCall('read', path, () => vfs().readFile(path, { encoding: 'utf8' }) as string);
  return fsCall('read', path, () => vfs().readFile(path) as Uint8Array);
}

export async function writeFile(path: string, data: string | Uint8Array): Promise<void> {
  fsCall('write', path, () => vfs().writeFile(path, data));
}

export async function rename(from: string, to: string): Promise<void> {
  fsCall('rename', from, () => vfs().rename(from, to));
}

export function removeSync(path: string, options: { force?: boolean } = {}): void {
  try {
    const s = fsCall('stat', path, () => vfs().stat(path));
    if (vfs().isDir(s.mode)) {
      for (const name of vfs().readdir(path)) if (name !== '.' && name !== '..') removeSync(`${path}/${name}`, options);
      vfs().rmdir(path);
    } else {
      vfs().unlink(path);
    }
  } catch (err) {
    if (!options.force || (err as { code?: string }).code !== 'ENOENT') throw err;
  }
}

export async function rm(path: string, options: { force?: boolean; recursive?: boolean } = {}): Promise<void> {
  removeSync(path, options);
}

export async function unlink(path: string): Promise<void> {
  fsCall('unlink', path, () => vfs().unlink(path));
}

export async function readdir(path: string): Promise<string[]> {
  return fsCall('readdir', path, () => vfs().readdir(path)).filter((n) => n !== '.' && n !== '..');
}

export function mkdirSync(path: string, options: { recursive?: boolean } = {}): void {
  if (options.recursive) fsCall('mkdir', path, () => vfs().mkdirTree(path));
  else fsCall('mkdir', path, () => vfs().mkdir(path));
}

export async function mkdir(path: string, options: { recursive?: boolean } = {}): Promise<void> {
  mkdirSync(path, options);
}

export default { open, stat, readFile, writeFile, rename, rm, unlink, readdir, mkdir };
