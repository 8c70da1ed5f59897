/**
 * Render the drift plot (SPEC §4.6) to an SVG string, headless (no browser, no canvas).
 * No `node:` imports: the browser app reuses this to show the same figure the CLI writes.
 *
 * The SVG names its font 'DejaVu Sans'; `io/plotFile.ts` rasterizes it with the copy of that
 * font shipped in `assets/fonts/`, so PNGs are pixel-identical on every machine. Text layout
 * here uses Vega's width estimate (no canvas in Node), which is deterministic too.
 */
import { parse, View } from 'vega';
import { compile } from 'vega-lite';
import { buildDriftPlotSpec, type DriftPlotData } from './driftPlotSpec.js';

export type { DriftAxis, DriftPlotData, DriftPlotSeries } from './driftPlotSpec.js';
export { buildDriftPlotSpec } from './driftPlotSpec.js';

/**
 * The drift plot as a standalone SVG document. Deterministic: the same data gives the same
 * string (no timestamps, ids or clip paths that depend on what was rendered before).
 */
export async function renderDriftPlotSvg(data: DriftPlotData): Promise<string> {
  const vegaSpec = compile(buildDriftPlotSpec(data)).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Any Vega-Lite specification as a standalone SVG (the report's smaller figures). */
export async function renderVegaLiteSvg(spec: import('vega-lite').TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
