/**
 * Helpers for the browser tests: a tiny static server for dist-web/ (no special headers, as
 * GitHub Pages serves it) and a headless Debian Chromium driven by playwright-core.
 */
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { DriftTrace } from '../../src/core/types.js';

type LaunchOptions = Parameters<typeof chromium.launchPersistentContext>[1];

export const CHROMIUM = process.env.CCDRIFT_CHROMIUM ?? '/usr/bin/chromium';
export const DIST_WEB = process.env.CCDRIFT_DIST_WEB ?? resolve(import.meta.dirname, '../../dist-web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.ttf': 'font/ttf',
  '.so': 'application/octet-stream',
  '.svg': 'image/svg+xml',
};

/** Serve `root` on 127.0.0.1 (a free port) under `prefix` (a site deployed in a folder); every request is recorded. `stop` ends it and its open connections (the site is then really offline). */
export async function serveStatic(root: string, prefix = '/'): Promise<{ url: string; server: Server; requests: string[]; stop(): Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const full = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(full);
    if (!full.startsWith(prefix)) {
      res.writeHead(404).end('not found');
      return;
    }
    const path = `/${full.slice(prefix.length)}`;
    const file = normalize(join(root, path === '/' ? 'index.html' : path));
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const stop = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return { url: `http://127.0.0.1:${port}${prefix}`, server, requests, stop };
}

/** A fresh headless Chromium profile (its own user-data dir), downloads accepted. */
export async function launch(options: LaunchOptions = {}): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'ccdrift-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    ...options,
  });
  // The profile is this context's alone: gone with it. Chromium may still be writing its last
  // files as the context closes (ENOTEMPTY): retry, and never fail a test over the cleanup.
  context.on('close', () => {
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (err) {
      console.warn(`could not remove the browser profile ${profile}: ${(err as Error).message}`);
    }
  });
  return context;
}

/** Wait until the status element says done or error; return its text. */
export async function waitForStatus(page: Page, pattern: RegExp, timeoutMs: number): Promise<string> {
  const status = page.getByTestId('status');
  await page.waitForFunction(
    (p) => {
      const t = document.querySelector('[data-testid=status]')?.textContent ?? '';
      return new RegExp(p.source, p.flags).test(t) || t.startsWith('error');
    },
    { source: pattern.source, flags: pattern.flags },
    { timeout: timeoutMs, polling: 200 },
  );
  return (await status.textContent()) ?? '';
}

/** A new page of `browser` showing the app at `url`; errors the page throws are printed (a failing test then says why). */
export async function openApp(browser: BrowserContext, url: string): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.warn(`page error: ${e.message}`));
  await page.goto(url);
  return page;
}

/** Click the download button `testid`; the file is saved as `pathPrefix` + the name the app suggests. */
export async function saveDownload(page: Page, testid: string, pathPrefix: string): Promise<{ name: string; path: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testid).click()]);
  const path = `${pathPrefix}${download.suggestedFilename()}`;
  await download.saveAs(path);
  return { name: download.suggestedFilename(), path };
}

/** The largest difference between two drift traces over t, x, y and z (they must have the same samples). */
export function maxDiff(a: DriftTrace, b: DriftTrace): number {
  expect(a.t.length).toBe(b.t.length);
  let m = 0;
  for (const k of ['t', 'x', 'y', 'z'] as const) for (let i = 0; i < a.t.length; i++) m = Math.max(m, Math.abs(a[k][i] - b[k][i]));
  return m;
}
