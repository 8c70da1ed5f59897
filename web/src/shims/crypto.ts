/** `node:crypto`'s randomBytes for the browser (temporary file names only). */
export function randomBytes(n: number): { toString(encoding: 'hex'): string } {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return { toString: () => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('') };
}
export default { randomBytes };
