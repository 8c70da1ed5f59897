/**
 * The app's service worker (issue 16: works offline once loaded). The build (vite.config.ts,
 * plugin `offlineServiceWorker`) writes it to dist-web/sw.js with FILES = every file of the
 * build and VERSION = a hash of their contents. Installing it stores them all, so after the
 * first visit every asset — the workers, the WebAssembly FFT and HDF5 library, the HDF5 filter
 * plugins, the fonts, the lazily loaded chunks — comes from the cache, and the page reloads
 * without the network. URLs are relative to this file, so the site works from any path.
 * Navigations go to the network first (a redeployed site is seen when online) and fall back to
 * the stored page; assets (content-hashed names) come from the cache first.
 */
/* global self, caches, fetch, Request, URL */
const VERSION = '__VERSION__';
const FILES = __FILES__;
const CACHE = `ccdrift-${VERSION}`;
const PAGE = new URL('./', self.location.href).href;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(FILES.map((f) => new Request(new URL(f, self.location.href).href, { cache: 'reload' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key.startsWith('ccdrift-') && key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    event.respondWith(
      fetch(request).catch(async () => {
        const cache = await caches.open(CACHE);
        return (await cache.match(request, { ignoreSearch: true })) ?? (await cache.match(PAGE)) ?? Response.error();
      }),
    );
    return;
  }
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      return (await cache.match(request, { ignoreSearch: true })) ?? fetch(request);
    })(),
  );
});
