/**
 * The browser app's build (`npm run build:web` → dist-web/, `npm run web` → build and serve).
 * The worker runs the same `src/io` readers and writers as the CLI: their `node:` imports are
 * replaced by small browser modules (web/src/shims) that back file access with the
 * Emscripten file system of h5wasm (the picked files mounted read-only, read in blocks through
 * File.slice; outputs in memory). Everything is bundled: no request leaves the page's origin.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

const shims: Record<string, string> = {
  'node:fs/promises': here('./src/shims/fsPromises.ts'),
  'node:fs': here('./src/shims/fs.ts'),
  'node:path': here('./src/shims/path.ts'),
  'node:crypto': here('./src/shims/crypto.ts'),
  'node:url': here('./src/shims/url.ts'),
  'node:zlib': here('./src/shims/zlib.ts'),
  'h5wasm/node': 'h5wasm',
  'h5wasm-plugins': here('./src/shims/h5wasmPlugins.ts'),
  '@resvg/resvg-js': here('./src/shims/resvg.ts'),
};

export default defineConfig({
  root: here('.'),
  base: './',
  publicDir: false,
  resolve: { alias: Object.entries(shims).map(([find, replacement]) => ({ find: new RegExp(`^${find.replace(/[/.]/g, '\\$&')}$`), replacement })) },
  worker: { format: 'es' },
  build: {
    outDir: here('../dist-web'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 8000,
    assetsInlineLimit: 0,
  },
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  preview: { host: '127.0.0.1', port: 5173, strictPort: true },
});
