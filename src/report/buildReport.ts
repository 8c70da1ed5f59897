/**
 * The drift report (issue 15): one self-contained HTML file — CSS, plots as inline SVG, renders
 * as PNG data URIs, no request to anywhere — that opens from disk and tells a microscopist how
 * far to trust a result: what went in, what was chosen and why, the drift with its band, the pair
 * residuals and what was rejected, the windows, the warnings, before/after renders and the FRC.
 * Pure (no `node:` imports): the browser app can build the same page.
 */

export interface ReportTable {
  headers: string[];
  rows: (string | number)[][];
  /** Rows to highlight (e.g. rejected pairs, left-out windows). */
  marked?: boolean[];
}

export interface ReportImage {
  caption: string;
  png: Uint8Array;
  width: number;
  height: number;
}

export interface ReportData {
  /** Page heading, e.g. "ccdrift locs: cell.hdf". */
  title: string;
  /** The command as typed, or the recipe. */
  command: string;
  /** Input summary: label → value. */
  input: [string, string][];
  /** Parameters as used: name, value, where it came from / why. */
  parameters: [string, string, string][];
  /** The estimator's one-line account of what it chose and why. */
  chosen?: string;
  /** How the standard errors were found, and what they come to. */
  uncertainty?: string[];
  /** The drift plot (band, trajectory) as SVG markup. */
  driftSvg?: string;
  pairs?: { summary: string; svg?: string; rejected?: ReportTable };
  windows?: { summary: string; table: ReportTable };
  /** Further tables with a heading each (the fiducial markers, the AIM segments). */
  sections?: { heading: string; summary: string; table: ReportTable }[];
  warnings: string[];
  renders?: { summary: string; images: ReportImage[] };
  frc?: { summary: string; svg?: string };
  /** ccdrift version and date, at the foot. */
  footer: string;
}

const CSS = `
body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;margin:24px auto;max-width:1180px;color:#1a1a1a;line-height:1.45;padding:0 16px}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ccc;padding-bottom:.2em}
code,pre{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.9em}pre{background:#f4f4f4;padding:8px;white-space:pre-wrap;word-break:break-all}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}tr.marked td{background:#fde2e1}.warn{background:#fff4d6;border-left:4px solid #e69f00;padding:6px 10px;margin:6px 0}
.ok{color:#2b7a2b}.figure{overflow-x:auto}.renders{display:flex;flex-wrap:wrap;gap:16px}.renders figure{margin:0}
.renders img{image-rendering:pixelated;border:1px solid #999;max-width:100%}figcaption{font-size:.85em;color:#444}
details{margin:.5em 0}summary{cursor:pointer;color:#0072B2}.foot{margin-top:2.5em;font-size:.8em;color:#666}
`;

/** Text safe inside HTML elements and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Base64 without Node's Buffer (the browser has btoa; this works in both). */
export function base64(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i];
    const b = i + 1 < bytes.length ? bytes[i + 1] : 0;
    const c = i + 2 < bytes.length ? bytes[i + 2] : 0;
    const n = (a << 16) | (b << 8) | c;
    out += alphabet[(n >> 18) & 63] + alphabet[(n >> 12) & 63];
    out += i + 1 < bytes.length ? alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? alphabet[n & 63] : '=';
  }
  return out;
}

function table(t: ReportTable): string {
  const head = `<tr>${t.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = t.rows
    .map((r, i) => `<tr${t.marked?.[i] ? ' class="marked"' : ''}>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table>${head}\n${body}</table>`;
}

/** An SVG made by Vega, inline: its XML prolog dropped; no external references in it. */
function inlineSvg(svg: string): string {
  return `<div class="figure">${svg.replace(/^<\?xml[^>]*>\s*/, '')}</div>`;
}

/** The report as one HTML document. */
export function buildReportHtml(d: ReportData): string {
  const parts: string[] = [];
  parts.push(`<h1>${escapeHtml(d.title)}</h1>`);
  parts.push(`<pre>${escapeHtml(d.command)}</pre>`);
  parts.push('<h2>Input</h2>', table({ headers: ['', ''], rows: d.input }));
  parts.push('<h2>Parameters</h2>');
  if (d.chosen) parts.push(`<p>${escapeHtml(d.chosen)}</p>`);
  parts.push(table({ headers: ['parameter', 'value', 'source'], rows: d.parameters }));
  parts.push('<h2>Warnings</h2>');
  parts.push(d.warnings.length ? d.warnings.map((w) => `<div class="warn">${escapeHtml(w)}</div>`).join('\n') : '<p class="ok">None.</p>');
  parts.push('<h2>Drift</h2>');
  parts.push(
    '<p>The correction added to every localization or frame (nm; <code>x_corrected = x + drift_x(t)</code>), the curve with a band of ±2 standard errors; ' +
      'dashed and faded where it is extrapolated beyond the first or last sample.</p>',
  );
  if (d.driftSvg) parts.push(inlineSvg(d.driftSvg));
  if (d.uncertainty?.length) parts.push('<h3>Uncertainty</h3>', `<ul>${d.uncertainty.map((u) => `<li>${escapeHtml(u)}</li>`).join('')}</ul>`);
  if (d.pairs) {
    parts.push('<h2>Pairs and residuals</h2>', `<p>${escapeHtml(d.pairs.summary)}</p>`);
    if (d.pairs.svg) parts.push(inlineSvg(d.pairs.svg));
    if (d.pairs.rejected && d.pairs.rejected.rows.length) {
      parts.push(`<details><summary>Rejected pairs (${d.pairs.rejected.rows.length})</summary>${table(d.pairs.rejected)}</details>`);
    }
  }
  if (d.windows) {
    parts.push('<h2>Time windows</h2>', `<p>${escapeHtml(d.windows.summary)}</p>`);
    parts.push(
      `<details${d.windows.table.rows.length <= 60 ? ' open' : ''}><summary>Windows (${d.windows.table.rows.length})</summary>${table(d.windows.table)}</details>`,
    );
  }
  for (const sec of d.sections ?? []) {
    parts.push(`<h2>${escapeHtml(sec.heading)}</h2>`, `<p>${escapeHtml(sec.summary)}</p>`);
    parts.push(
      `<details${sec.table.rows.length <= 60 ? ' open' : ''}><summary>${escapeHtml(sec.heading)} (${sec.table.rows.length})</summary>${table(sec.table)}</details>`,
    );
  }
  if (d.renders) {
    parts.push('<h2>Before and after</h2>', `<p>${escapeHtml(d.renders.summary)}</p>`);
    parts.push(
      `<div class="renders">${d.renders.images
        .map(
          (im) =>
            `<figure><img alt="${escapeHtml(im.caption)}" width="${im.width}" height="${im.height}" src="data:image/png;base64,${base64(im.png)}"><figcaption>${escapeHtml(im.caption)}</figcaption></figure>`,
        )
        .join('\n')}</div>`,
    );
  }
  if (d.frc) {
    parts.push('<h2>Fourier ring correlation</h2>', `<p>${escapeHtml(d.frc.summary)}</p>`);
    if (d.frc.svg) parts.push(inlineSvg(d.frc.svg));
  }
  parts.push(`<p class="foot">${escapeHtml(d.footer)}</p>`);
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    `<title>${escapeHtml(d.title)}</title>\n<style>${CSS}</style>\n</head>\n<body>\n${parts.join('\n')}\n</body>\n</html>\n`
  );
}
