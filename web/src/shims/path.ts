/** `node:path` (POSIX) for the browser: the pure string functions `src/io` uses. */
export const sep = '/';

export function isAbsolute(p: string): boolean {
  return p.startsWith('/');
}

export function normalize(p: string): string {
  const abs = isAbsolute(p);
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length && out[out.length - 1] !== '..') out.pop();
    else if (part !== '..' || !abs) out.push(part);
  }
  const s = out.join('/');
  return abs ? `/${s}` : s || '.';
}

export function join(...parts: string[]): string {
  return normalize(parts.filter((p) => p !== '').join('/'));
}

/** Relative paths resolve against the worker's working directory: the mounted input folder. */
export function resolve(...parts: string[]): string {
  let out = '';
  for (const p of parts) out = isAbsolute(p) ? p : out ? `${out}/${p}` : p;
  return normalize(isAbsolute(out) ? out : `${cwd()}/${out}`);
}

let cwdFn: () => string = () => '/';
export function setCwd(fn: () => string): void {
  cwdFn = fn;
}
function cwd(): string {
  return cwdFn();
}

export function basename(p: string, ext?: string): string {
  const b = p.replace(/\/+$/, '').split('/').pop() ?? '';
  return ext && b.endsWith(ext) && b !== ext ? b.slice(0, -ext.length) : b;
}

export function dirname(p: string): string {
  const trimmed = p.replace(/\/+$/, '');
  const i = trimmed.lastIndexOf('/');
  if (i < 0) return '.';
  return i === 0 ? '/' : trimmed.slice(0, i);
}

export function extname(p: string): string {
  const b = basename(p);
  const i = b.lastIndexOf('.');
  return i <= 0 ? '' : b.slice(i);
}

export default { sep, isAbsolute, normalize, join, resolve, basename, dirname, extname };
