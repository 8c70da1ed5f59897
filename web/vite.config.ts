/**
 * The browser app's build (`npm run build:web` → dist-web/, `npm run web` → build and serve).
 * The worker runs the same `src/io` readers and writers as the CLI: their `node:` imports are
 * replaced by small browser modules (web/src/shims) that back file access with the
 * Emscripten file system of h5wasm (the picked files mounted read-only, read in blocks through
 * File.slice; outputs in memory). Everything is bundled: no request leaves the page's origin.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

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

/** Every file under `dir`, as paths relative to it with `/`. */
function listFiles(dir: string, root = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), root) : [relative(root, join(dir, e.name)).split(sep).join('/')],
  );
}

/**
 * Writes dist-web/sw.js (from web/serviceWorker.js) once the build, workers included, is on
 * disk: the list of every file it made, and a hash of their contents as the cache's version.
 */
function offlineServiceWorker(): Plugin {
  let outDir = '';
  return {
    name: 'ccdrift-offline-service-worker',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle(error?: Error) {
      // A failed build has no output to list: let its own error be the one reported.
      if (error || !existsSync(outDir)) return;
      const files = listFiles(outDir)
        .filter((f) => f !== 'sw.js')
        .sort();
      const hash = createHash('sha256');
      for (const f of files) hash.update(f).update(readFileSync(join(outDir, f)));
      const source = readFileSync(here('./serviceWorker.js'), 'utf8')
        .replace('__VERSION__', hash.digest('hex').slice(0, 16))
        .replace('__FILES__', JSON.stringify(['./', ...files]));
      writeFileSync(join(outDir, 'sw.js'), source);
    },
  };
}

export default defineConfig({
  plugins: [offlineServiceWorker()],
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
