/** `node:url` for the browser: only fileURLToPath, which the app never reaches (plot fonts are CSS). */
export function fileURLToPath(url: string | URL): string {
  return new URL(url).pathname;
}
export default { fileURLToPath };
