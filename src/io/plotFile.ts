/**
 * Write the drift plot to a file: `.svg` as rendered, `.png` rasterized with resvg using only
 * the DejaVu Sans shipped in `assets/fonts/` (no system fonts), so the PNG is the same on
 * every machine.
 */
import { existsSync, promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';
import { UsageError } from '../core/errors.js';
import { renderDriftPlotSvg, type DriftPlotData } from '../plot/driftPlot.js';
import { PLOT_FONT_FAMILY } from '../plot/driftPlotSpec.js';
import { writeAtomically } from './atomic.js';
import { extensionOf } from './formats.js';

/** Extensions `writeDriftPlot` accepts, lower case with the dot. */
export const PLOT_EXTENSIONS = ['.svg', '.png'] as const;

/** PNG pixels per SVG pixel: text and thin lines stay crisp when the figure is scaled down. */
export const PNG_SCALE = 2;

const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'];

let fontDirCache: string | undefined;

/**
 * `assets/fonts` of this package. The module runs from `src/io/` (tests) and from
 * `dist/src/io/` (built), so walk up from here instead of assuming a depth.
 */
export function findPlotFontDir(): string {
  if (fontDirCache !== undefined) return fontDirCache;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'assets', 'fonts');
    if (FONT_FILES.every((f) => existsSync(join(candidate, f)))) {
      fontDirCache = candidate;
      return candidate;
    }
    if (dirname(dir) === dir) break;
  }
  throw new Error(
    `cannot find the plot fonts assets/fonts/{${FONT_FILES.join(',')}} in ${start} or any directory above it; ` +
      'the package is incomplete: reinstall it (the font ships in its assets/ folder)',
  );
}

/** Rasterize a plot SVG to PNG bytes with the shipped font, on white, at `PNG_SCALE`. */
export function rasterizePlotSvg(svg: string): Buffer {
  const fontDir = findPlotFontDir();
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: PNG_SCALE },
    font: {
      fontFiles: FONT_FILES.map((f) => join(fontDir, f)),
      loadSystemFonts: false,
      defaultFontFamily: PLOT_FONT_FAMILY,
      sansSerifFamily: PLOT_FONT_FAMILY,
    },
  });
  return resvg.render().asPng();
}

/**
 * Write the drift plot to `path`, format chosen by its extension (`.svg` or `.png`).
 * Atomic: on any error nothing is left at `path` (an existing file there stays untouched).
 */
export async function writeDriftPlot(path: string, data: DriftPlotData): Promise<void> {
  const ext = extensionOf(path);
  if (!(PLOT_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new UsageError(
      `${path}: cannot write a plot with extension '${ext || '(none)'}'; ` + `accepted: ${PLOT_EXTENSIONS.join(', ')} (choose e.g. drift.png)`,
    );
  }
  const svg = await renderDriftPlotSvg(data);
  const bytes = ext === '.png' ? rasterizePlotSvg(svg) : svg;
  await writeAtomically([path], async ([temporary]) => {
    await fs.writeFile(temporary, bytes);
  });
}
