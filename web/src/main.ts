/// <reference types="vite/client" />
/**
 * The page: file picking, the parameter form, progress, and the results (plots, renders,
 * downloads). All numerics run in a worker (worker.ts); the page never blocks. Cancel ends
 * the worker and starts a fresh one.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { DriftTrace } from '../../src/core/types.js';
import { buildDriftPlotSpec, PLOT_FONT_FAMILY } from '../../src/plot/driftPlotSpec.js';
import { fieldsFor, renderForForm, type DataKind, type Field, type FormValues } from './params.js';
import type { FromWorker, OutputFile, Picture, Result, Summary, ToWorker } from './protocol.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const fileInput = $<HTMLInputElement>('file-input');
const drop = $<HTMLLabelElement>('drop');
const summaryEl = $('summary');
const form = $<HTMLFormElement>('params');
const runButton = $<HTMLButtonElement>('run');
const cancelButton = $<HTMLButtonElement>('cancel');
const statusEl = $('status');
const stagesEl = $('stages');
const logEl = $('log');
const resultsEl = $('results');
const offlineEl = $('offline');

let worker: Worker;
let files: File[] = [];
let kind: DataKind | undefined;
let busy = false;
/** The worker is reading the picked files (Cancel then drops them instead of reading them again). */
let reading = false;
/** Run runs a recipe (messages name its parameters, not the form's fields). */
let recipeRun = false;
let urls: string[] = [];
let views: View[] = [];

function setStatus(text: string, error = false): void {
  statusEl.textContent = text;
  statusEl.classList.toggle('error', error);
}

function log(line: string): void {
  logEl.textContent += `${line}\n`;
  logEl.scrollTop = logEl.scrollHeight;
}

function setBusy(b: boolean): void {
  busy = b;
  runButton.disabled = b || !kind;
  cancelButton.disabled = !b;
}

// ---------------------------------------------------------------------------------------------
// The worker

let currentStage: { bar: HTMLProgressElement; text: HTMLElement; total: number; started: number } | undefined;

// ---------------------------------------------------------------------------------------------
// Offline (issue 16: "works offline once loaded"). Two layers: the numerics worker loads all it
// needs when it starts (the HDF5 library and filter plugins, the WebAssembly FFT, a warm pool
// of correlation workers: see worker.ts), so a loaded page runs without the network; and a
// service worker (sw.js, written by the build) stores every file of the site, so a reload, a
// cancel (a fresh worker) and the rarely used chunks (compressed TIFF decoders) work offline
// too. Service workers exist only in secure contexts (https, localhost): elsewhere the first
// layer alone holds.

let workerReady = false;
let offlineStore: 'pending' | 'ready' | 'unavailable' = 'pending';
let offlineWhy = '';

function showOffline(): void {
  let state: string;
  let text: string;
  if (!workerReady || offlineStore === 'pending') {
    state = 'loading';
    text = 'loading the workers…';
  } else if (offlineStore === 'ready') {
    state = 'ready';
    text = 'Works offline: every file of this page is stored in the browser.';
  } else {
    state = 'loaded';
    text = `Works offline until the page is reloaded (${offlineWhy}).`;
  }
  offlineEl.dataset.state = state;
  offlineEl.textContent = text;
}

async function storeForOffline(): Promise<void> {
  if (!import.meta.env.PROD) throw new Error('no service worker in the development server');
  if (!window.isSecureContext || !navigator.serviceWorker)
    throw new Error('this browser keeps no offline copy for a page served over plain http from another machine');
  let installing: ServiceWorker | null = null;
  try {
    installing = (await navigator.serviceWorker.register('./sw.js')).installing;
  } catch (err) {
    // Offline, the update check of sw.js fails; a page served from the stored copy is still whole.
    if (!navigator.serviceWorker.controller) throw new Error(`the offline copy could not be stored: ${(err as Error).message}`);
  }
  // A first install that fails (a file of the site could not be fetched) leaves no worker: say so.
  const failed = new Promise<never>((_, reject) =>
    installing?.addEventListener('statechange', () => {
      if (installing?.state === 'redundant' && !navigator.serviceWorker.controller)
        reject(new Error('the offline copy could not be stored: a file of the site could not be fetched'));
    }),
  );
  await Promise.race([navigator.serviceWorker.ready, failed]);
}

function startWorker(): void {
  workerReady = false;
  showOffline();
  worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (ev: MessageEvent<FromWorker>) => onWorkerMessage(ev.data);
  worker.onerror = (ev) => {
    setBusy(false);
    setStatus(`error: ${ev.message || 'the worker failed to start'}`, true);
  };
}

function send(msg: ToWorker): void {
  worker.postMessage(msg);
}

function onWorkerMessage(m: FromWorker): void {
  switch (m.type) {
    case 'ready':
      workerReady = true;
      showOffline();
      return;
    case 'opened':
      reading = false;
      showSummary(m.summary);
      if (!busy) setStatus('ready: press Run');
      return;
    case 'stage': {
      const row = document.createElement('div');
      row.className = 'stage';
      const name = document.createElement('span');
      name.textContent = m.stage;
      const bar = document.createElement('progress');
      bar.max = Math.max(1, m.total);
      bar.value = 0;
      const text = document.createElement('span');
      stagesEl.append(row);
      row.append(name, bar, text);
      currentStage = { bar, text, total: m.total, started: performance.now() };
      setStatus(`running: ${m.stage}…`);
      return;
    }
    case 'progress':
      if (currentStage) {
        currentStage.bar.value = m.done;
        currentStage.text.textContent = `${m.done} / ${currentStage.total}`;
      }
      return;
    case 'stageDone':
      if (currentStage) {
        currentStage.bar.value = currentStage.bar.max;
        currentStage.text.textContent = `done in ${((performance.now() - currentStage.started) / 1000).toFixed(1)} s`;
        currentStage = undefined;
      }
      return;
    case 'log':
      log(renderForForm(m.line, kind, recipeRun));
      return;
    case 'result':
      setBusy(false);
      void showResult(m.result).then(
        () => setStatus(`done in ${m.result.seconds.toFixed(1)} s: ${m.result.reports.length ? 'see the report below' : 'drift applied'}`),
        (err) => setStatus(`error: ${(err as Error).message}`, true),
      );
      return;
    case 'error':
      reading = false;
      setBusy(false);
      setStatus(`error: ${renderForForm(m.message, kind, recipeRun)}`, true);
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Files and the form

function pick(list: FileList | null): void {
  files = list ? [...list] : [];
  if (files.length === 0) return;
  if (busy) {
    // New files while a run is going: that run is abandoned.
    worker.terminate();
    startWorker();
    currentStage = undefined;
  }
  kind = undefined;
  resultsEl.hidden = true;
  summaryEl.textContent = '';
  stagesEl.textContent = '';
  logEl.textContent = '';
  setStatus(`reading ${files.map((f) => f.name).join(', ')}…`);
  setBusy(true);
  reading = true;
  send({ type: 'open', files, values: formValues() });
}

function showSummary(s: Summary): void {
  const lines = [...s.lines];
  recipeRun = s.recipe !== undefined;
  if (s.recipe)
    lines.push(`Run runs the recipe ${s.recipe} as ccdrift run does (the form's pixel size and workers apply; its other parameters are the recipe's)`);
  if (s.driftFile) lines.push(`drift to apply: ${s.driftFile} (Run applies it instead of measuring, as ccdrift apply)`);
  for (const i of s.ignored) lines.push(`not used: ${i}`);
  summaryEl.textContent = lines.join('\n');
  if (kind !== s.kind) buildForm(s.kind);
  kind = s.kind;
  setBusy(false);
}

function buildForm(k: DataKind): void {
  form.textContent = '';
  const groups = new Map<string, HTMLFieldSetElement>();
  for (const f of fieldsFor(k)) {
    let set = groups.get(f.group);
    if (!set) {
      set = document.createElement('fieldset');
      const legend = document.createElement('legend');
      legend.textContent = f.group;
      set.append(legend);
      groups.set(f.group, set);
      form.append(set);
    }
    set.append(fieldRow(f));
  }
}

function fieldRow(f: Field): HTMLElement {
  const row = document.createElement('div');
  row.className = 'field';
  const label = document.createElement('label');
  label.textContent = `--${f.flag}`;
  label.htmlFor = `p-${f.flag}`;
  let input: HTMLInputElement | HTMLSelectElement;
  if (f.kind === 'enum') {
    input = document.createElement('select');
    for (const c of f.choices ?? []) input.append(new Option(c === '' ? '(not set)' : c, c, c === f.default, c === f.default));
  } else {
    input = document.createElement('input');
    if (f.kind === 'boolean') {
      input.type = 'checkbox';
      input.checked = f.default === 'true';
    } else {
      input.type = 'text';
      input.value = f.default;
      input.placeholder = f.default === '' ? '(not set)' : f.default;
    }
  }
  input.id = `p-${f.flag}`;
  input.name = f.flag;
  input.dataset.testid = `param-${f.flag}`;
  input.dataset.kind = f.kind;
  const help = document.createElement('span');
  help.className = 'help';
  help.textContent = `${f.help}${f.unit ? ` [${f.unit}]` : ''}${f.accepts ? ` — ${f.accepts}` : ''}; default ${f.default === '' ? '(not set)' : f.default}`;
  row.append(label, input, help);
  return row;
}

function formValues(): FormValues {
  const values: FormValues = {};
  for (const el of form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) {
    values[el.name] = el instanceof HTMLInputElement && el.type === 'checkbox' ? String(el.checked) : el.value;
  }
  return values;
}

// ---------------------------------------------------------------------------------------------
// Results

function download(id: string, file: OutputFile | undefined, label?: string): void {
  const a = $<HTMLAnchorElement>(id);
  a.hidden = !file;
  if (!file) return;
  const url = URL.createObjectURL(new Blob([file.bytes as BlobPart], { type: file.mime }));
  urls.push(url);
  a.href = url;
  a.download = file.name;
  a.textContent = label ?? file.name;
}

/** The CLI's drift plot (`--plot`, without its trajectory panel: the page has its own), made interactive: zoom/pan on time, values on hover. */
function interactiveDriftSpec(result: Result): TopLevelSpec {
  const spec = buildDriftPlotSpec({ ...result.plot, trajectory: false, width: 900, height: 180 }) as unknown as { spec: { layer: Record<string, unknown>[] } };
  const tooltip = [
    { field: 'series', type: 'nominal', title: 'series' },
    { field: 'axis', type: 'nominal', title: 'axis' },
    { field: 'tFrame', type: 'quantitative', title: 'frame', format: '.1f' },
    { field: 'driftNm', type: 'quantitative', title: 'drift (nm)', format: '.2f' },
  ];
  const layers = spec.spec.layer;
  for (const layer of layers) {
    (layer.encoding as Record<string, unknown>).tooltip = tooltip;
    layer.mark = { ...(layer.mark as object), clip: true };
  }
  // The samples (the last layer) carry the zoom: drag to pan, wheel to zoom, double-click to reset.
  layers[layers.length - 1].params = [{ name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' }];
  return spec as unknown as TopLevelSpec;
}

function trajectorySpec(result: Result): TopLevelSpec {
  const rows: { t: number; x: number; y: number; kind: string }[] = [];
  const step = Math.max(1, Math.ceil(result.perFrame.t.length / 4000));
  for (let i = 0; i < result.perFrame.t.length; i += step)
    rows.push({ t: result.perFrame.t[i], x: result.perFrame.x[i], y: result.perFrame.y[i], kind: 'interpolated' });
  const s = result.samples;
  for (let i = 0; i < s.t.length; i++) if (Number.isFinite(s.x[i]) && Number.isFinite(s.y[i])) rows.push({ t: s.t[i], x: s.x[i], y: s.y[i], kind: 'samples' });
  const tooltip = [
    { field: 't', type: 'quantitative', title: 'frame', format: '.1f' },
    { field: 'x', type: 'quantitative', title: 'x (nm)', format: '.2f' },
    { field: 'y', type: 'quantitative', title: 'y (nm)', format: '.2f' },
  ];
  return {
    title: { text: 'x–y trajectory of the drift (correction to add)', anchor: 'start' },
    data: { values: rows },
    width: 420,
    height: 420,
    layer: [
      {
        transform: [{ filter: "datum.kind === 'interpolated'" }],
        mark: { type: 'line', strokeWidth: 1.5, color: '#444444', clip: true },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: 'x drift (nm)', scale: { zero: false } },
          y: { field: 'y', type: 'quantitative', title: 'y drift (nm)', scale: { zero: false } },
          order: { field: 't', type: 'quantitative' },
          tooltip,
        },
      },
      {
        transform: [{ filter: "datum.kind === 'samples'" }],
        mark: { type: 'point', filled: true, size: 36, opacity: 1, clip: true },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { field: 'y', type: 'quantitative' },
          color: { field: 't', type: 'quantitative', title: 'frame', scale: { scheme: 'viridis' } },
          tooltip,
        },
        params: [{ name: 'zoomxy', select: 'interval', bind: 'scales' }],
      },
    ],
    background: 'white',
    padding: 12,
    config: { font: PLOT_FONT_FAMILY },
  } as TopLevelSpec;
}

const tooltipEl = $('tooltip');

/** The hover values of a plot, in a box by the pointer. */
function showTooltip(event: MouseEvent | undefined, value: unknown): void {
  if (!event || !value || typeof value !== 'object') {
    tooltipEl.hidden = true;
    return;
  }
  tooltipEl.textContent = Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  tooltipEl.hidden = false;
  tooltipEl.style.left = `${event.pageX + 14}px`;
  tooltipEl.style.top = `${event.pageY + 14}px`;
}

async function embed(el: HTMLElement, spec: TopLevelSpec): Promise<View> {
  el.textContent = '';
  const view = new View(parse(compile(spec).spec), { renderer: 'svg', container: el, hover: true });
  view.tooltip((_handler, event, _item, value) => showTooltip(event as MouseEvent | undefined, value));
  await view.runAsync();
  views.push(view);
  return view;
}

/** Draw a picture with a percentile stretch and a square-root scale (dense and sparse regions both visible). */
function draw(canvas: HTMLCanvasElement, p: Picture): void {
  canvas.width = p.width;
  canvas.height = p.height;
  const ctx = canvas.getContext('2d')!;
  const sorted = p.data.filter((v) => v > 0).sort();
  const lo = p.data.some((v) => v < 0) ? Math.min(...p.data.subarray(0, 1)) : 0;
  const hi = sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(0.995 * sorted.length))] : 1;
  const img = ctx.createImageData(p.width, p.height);
  for (let i = 0; i < p.data.length; i++) {
    const v = Math.sqrt(Math.min(1, Math.max(0, (p.data[i] - lo) / (hi - lo || 1))));
    // "hot": black → red → yellow → white
    img.data[4 * i] = Math.min(255, 3 * 255 * v);
    img.data[4 * i + 1] = Math.min(255, Math.max(0, 3 * 255 * v - 255));
    img.data[4 * i + 2] = Math.min(255, Math.max(0, 3 * 255 * v - 510));
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

async function showResult(result: Result): Promise<void> {
  for (const u of urls) URL.revokeObjectURL(u);
  urls = [];
  for (const v of views) v.finalize();
  views = [];
  for (const r of result.reports) log(r);
  const d = result.samples;
  log(`drift range: x ${span(d.x)} nm, y ${span(d.y)} nm${result.is3d ? `, z ${span(d.z)} nm` : ''}`);
  resultsEl.hidden = false;
  download('download-corrected', result.corrected[0], result.corrected.length ? `corrected: ${result.corrected.map((f) => f.name).join(' + ')}` : undefined);
  // A sidecar (Picasso .yaml) comes as its own link next to the main file.
  for (const old of document.querySelectorAll('[data-testid=download-corrected-sidecar], [data-testid=download-extra]')) old.remove();
  for (const extra of result.corrected.slice(1)) {
    const a = document.createElement('a');
    a.dataset.testid = 'download-corrected-sidecar';
    $('downloads').insertBefore(a, $('download-drift'));
    a.id = `download-sidecar-${extra.name}`;
    download(a.id, extra);
  }
  for (const extra of result.extra ?? []) {
    const a = document.createElement('a');
    a.dataset.testid = 'download-extra';
    $('downloads').insertBefore(a, $('download-drift'));
    a.id = `download-extra-${extra.name}`;
    download(a.id, extra);
  }
  download('download-drift', result.driftNpz, `drift: ${result.driftNpz.name}`);
  download('download-per-frame', result.perFrameCsv, `per frame: ${result.perFrameCsv.name}`);
  download('download-picasso', result.picassoTxt, result.picassoTxt && `Picasso: ${result.picassoTxt.name}`);
  download('download-recipe', result.recipe, result.recipe && `recipe: ${result.recipe.name}`);
  await document.fonts.load(`13px "${PLOT_FONT_FAMILY}"`).catch(() => undefined);
  await embed($('drift-plot'), interactiveDriftSpec(result));
  await embed($('trajectory'), trajectorySpec(result));
  // The downloads are the CLI's --plot figure (drift panels and trajectory), drawn off-page.
  const stem = result.driftNpz.name.replace(/_drift\.npz$/, '');
  const driftView = new View(parse(compile(buildDriftPlotSpec(result.plot)).spec), { renderer: 'none' });
  await driftView.runAsync();
  views.push(driftView);
  const svg = await driftView.toSVG();
  download('download-plot-svg', { name: `${stem}_drift.svg`, bytes: new TextEncoder().encode(svg), mime: 'image/svg+xml' }, 'plot (.svg)');
  const png = await driftView.toCanvas(2).then((c) => new Promise<Blob>((res) => c.toBlob((b) => res(b!), 'image/png')));
  download('download-plot-png', { name: `${stem}_drift.png`, bytes: new Uint8Array(await png.arrayBuffer()), mime: 'image/png' }, 'plot (.png)');
  draw($<HTMLCanvasElement>('before'), result.before);
  draw($<HTMLCanvasElement>('after'), result.after);
  const what = result.kind === 'table' ? 'localizations, pixel ' : 'mean over time, pixel ';
  $('before-caption').textContent = `before: ${what}${result.before.pixel}`;
  $('after-caption').textContent = `after: ${what}${result.after.pixel}`;
  $('detail').hidden = !result.detail;
  if (result.detail) {
    draw($<HTMLCanvasElement>('detail-before'), result.detail.before);
    draw($<HTMLCanvasElement>('detail-after'), result.detail.after);
    $('detail-before-caption').textContent = `before: the densest region (${result.detail.where}), pixel ${result.detail.before.pixel}`;
    $('detail-after-caption').textContent = `after: same region, pixel ${result.detail.after.pixel}`;
  }
}

function span(v: Float64Array): string {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of v) {
    if (!Number.isFinite(a)) continue;
    lo = Math.min(lo, a);
    hi = Math.max(hi, a);
  }
  return `${lo.toFixed(1)} … ${hi.toFixed(1)}`;
}

// ---------------------------------------------------------------------------------------------
// Wiring

fileInput.addEventListener('change', () => pick(fileInput.files));
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  // The file input then names the dropped files, as if they had been picked.
  if (e.dataTransfer?.files.length) fileInput.files = e.dataTransfer.files;
  pick(e.dataTransfer?.files ?? null);
});
runButton.addEventListener('click', () => {
  if (busy || !kind) return;
  stagesEl.textContent = '';
  logEl.textContent = '';
  resultsEl.hidden = true;
  setBusy(true);
  setStatus('running…');
  send({ type: 'run', values: formValues() });
});
cancelButton.addEventListener('click', () => {
  worker.terminate();
  startWorker();
  setBusy(false);
  currentStage = undefined;
  if (reading) {
    // Cancelled while reading: the files are dropped (not read again).
    reading = false;
    files = [];
    kind = undefined;
    fileInput.value = '';
    summaryEl.textContent = '';
    setBusy(false);
    setStatus('cancelled: nothing was read; pick files to start');
    return;
  }
  setStatus('cancelled');
  // The fresh worker reads the files again, so Run works at once.
  if (files.length) {
    reading = true;
    setBusy(true);
    send({ type: 'open', files, values: formValues() });
  }
});

startWorker();
// The plot's font, now (the plot is drawn after a run, which may be offline).
void document.fonts.load(`13px "${PLOT_FONT_FAMILY}"`).catch(() => undefined);
void document.fonts.load(`bold 13px "${PLOT_FONT_FAMILY}"`).catch(() => undefined);
storeForOffline().then(
  () => {
    offlineStore = 'ready';
    showOffline();
  },
  (err: Error) => {
    offlineStore = 'unavailable';
    offlineWhy = err.message;
    showOffline();
  },
);
// On a first visit the service worker takes over the page after the numerics worker started;
// a worker started now fetches through it. Swap the idle worker (nothing picked yet) for one.
navigator.serviceWorker?.addEventListener('controllerchange', () => {
  if (busy || files.length) return;
  worker.terminate();
  startWorker();
});
export type { DriftTrace };
