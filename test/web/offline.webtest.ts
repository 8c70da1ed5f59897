/**
 * "Works offline once loaded" (issue 16, requirement 3), in a real browser: the page is loaded
 * from a plain static server, which is then shut down (and the browser set offline), and a
 * table and a stack are run at the defaults; their drift must be the CLI's. Twice: without a
 * service worker (what the loaded page holds in memory must suffice: the workers, the
 * FFT, the HDF5 plugins), and with it (then also after a reload, and a cancel, offline).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDriftNpz } from '../../src/io/driftNpzCodec.js';
import { runCli } from '../helpers/cli.js';
import { CHROMIUM, DIST_WEB, launch, maxDiff, serveStatic, waitForStatus } from './browser.js';

/** Same file, same defaults: the app's drift equals the CLI's to this (issue 16, requirement 8). */
const SAME_AS_CLI_NM = 0.01;
const RUN_TIMEOUT_MS = 300_000;

const missing = !existsSync(CHROMIUM)
  ? `no Chromium at ${CHROMIUM} (apt-get install chromium)`
  : !existsSync(join(DIST_WEB, 'sw.js'))
    ? `no ${DIST_WEB}/sw.js (npm run build:web)`
    : '';
if (missing) console.warn(`browser offline tests skipped: ${missing}`);

let dir: string;
const contexts: BrowserContext[] = [];

beforeAll(() => {
  if (missing) return;
  dir = mkdtempSync(join(tmpdir(), 'ccdrift-offline-'));
  expect(runCli(['simulate', '-o', 'off.csv', '--frames', '3000', '--locs', '15000', '--seed', '31', '--field', '8000', '-q'], dir).code).toBe(0);
  expect(runCli(['locs', 'off.csv', '-o', 'cli-off.csv', '--drift-out', 'cli-off.npz', '-q'], dir).code).toBe(0);
  expect(runCli(['simulate', '--images', '-o', 'off.tif', '--frames', '12', '--pixel', '20', '--seed', '32', '-q'], dir).code).toBe(0);
  expect(runCli(['images', 'off.tif', '-o', 'cli-off.tif', '--drift-out', 'cli-off-stack.npz', '-q'], dir).code).toBe(0);
});

afterAll(async () => {
  for (const c of contexts) await c.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const npz = (path: string) => decodeDriftNpz(readFileSync(path), path);

async function offlineState(page: Page, state: string): Promise<string> {
  await page.waitForSelector(`[data-testid=offline][data-state=${state}]`, { timeout: RUN_TIMEOUT_MS });
  return (await page.getByTestId('offline').textContent()) ?? '';
}

/** Pick `file`, run at the defaults, and check the downloaded drift against the CLI's. */
async function runAndCompare(page: Page, file: string, cliNpz: string, cancelFirst = false): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(join(dir, file));
  expect(await waitForStatus(page, /ready/, RUN_TIMEOUT_MS)).toContain('ready');
  if (cancelFirst) {
    // Cancel ends the numerics worker; its replacement must start without the network.
    await page.getByTestId('run').click();
    await page.waitForSelector('.stage', { timeout: RUN_TIMEOUT_MS });
    await page.getByTestId('cancel').click();
    expect(await waitForStatus(page, /ready/, RUN_TIMEOUT_MS)).toContain('ready');
  }
  await page.getByTestId('run').click();
  expect(await waitForStatus(page, /done/, RUN_TIMEOUT_MS)).toContain('done');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-drift').click()]);
  const path = join(dir, `offline-${Date.now()}-${download.suggestedFilename()}`);
  await download.saveAs(path);
  expect(maxDiff(npz(path), npz(join(dir, cliNpz)))).toBeLessThan(SAME_AS_CLI_NM);
}

describe.skipIf(missing)('the browser app offline', () => {
  it('without a service worker: a loaded page runs a table and a stack with the server gone', async () => {
    const site = await serveStatic(DIST_WEB);
    const browser = await launch();
    contexts.push(browser);
    // As a page served over plain http from another machine (not a secure context): no service worker.
    await browser.addInitScript(() => Object.defineProperty(Navigator.prototype, 'serviceWorker', { get: () => undefined }));
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.warn(`page error: ${e.message}`));
    await page.goto(site.url);
    expect(await offlineState(page, 'loaded')).toContain('until the page is reloaded');
    await site.stop();
    await browser.setOffline(true);
    await runAndCompare(page, 'off.csv', 'cli-off.npz');
    await runAndCompare(page, 'off.tif', 'cli-off-stack.npz');
    await page.screenshot({ path: join(process.env.CCDRIFT_WEB_SHOTS ?? dir, 'web-offline.png'), fullPage: true });
  });

  it('with the service worker: reloaded offline, the page runs a table (with a cancel) and a stack; served from a folder', async () => {
    // Deployed in a folder of a site (as GitHub Pages serves a project): nothing is tied to the root.
    const site = await serveStatic(DIST_WEB, '/lab/tools/ccdrift/');
    const browser = await launch();
    contexts.push(browser);
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.warn(`page error: ${e.message}`));
    await page.goto(site.url);
    expect(await offlineState(page, 'ready')).toContain('Works offline');
    await site.stop();
    await browser.setOffline(true);
    await page.reload();
    expect(await offlineState(page, 'ready')).toContain('Works offline');
    await runAndCompare(page, 'off.csv', 'cli-off.npz', true);
    await runAndCompare(page, 'off.tif', 'cli-off-stack.npz');
  });
});
