import { resolve } from 'node:path';
import { z } from 'zod';
import { estimateDriftFromLocs } from '../../core/drift/estimateDriftFromLocs.js';
import { FIDUCIAL_DEFAULTS, type FiducialResult } from '../../core/drift/estimateDriftFiducial.js';
import type { DriftTrace, LocTable } from '../../core/types.js';
import { deriveTable } from '../../core/columnDtypes.js';
import type { DriftPlotData } from '../../plot/driftPlot.js';
import { readPicks } from '../../io/picks.js';
import { createYielder } from '../../core/registration/yieldNow.js';
import { defineModule, DETAILS_KEY, REPORT_KEY, schemas } from '../declare.js';

/** The name of the column that flags the markers' own localizations (marker index + 1, else 0). */
export const FIDUCIAL_COLUMN = 'fiducial';

/** The table with the `fiducial` column added (other columns shared, not copied). */
export function flagFiducialRows(table: LocTable, result: FiducialResult): LocTable {
  const columns = new Map(table.columns);
  columns.set(FIDUCIAL_COLUMN, result.markerOfRow);
  return deriveTable(table, columns);
}

/** The markers as a small table (one row each), for saving next to the drift. */
export function markerTable(result: FiducialResult): LocTable {
  const m = result.markers;
  const col = (f: (k: number) => number) => Float64Array.from(m, (_, k) => f(k));
  return {
    length: m.length,
    columns: new Map<string, Float64Array>([
      ['marker', col((k) => k + 1)],
      ['x', col((k) => m[k].x)],
      ['y', col((k) => m[k].y)],
      ['z', col((k) => m[k].z)],
      ['t', col(() => 0)],
      ['radius_nm', col((k) => m[k].radiusNm)],
      ['frames', col((k) => m[k].frames)],
      ['fraction', col((k) => m[k].fraction)],
      ['used_frames', col((k) => m[k].usedFrames)],
      ['sd_x', col((k) => m[k].sdNm[0])],
      ['sd_y', col((k) => m[k].sdNm[1])],
      ['sd_z', col((k) => m[k].sdNm[2])],
      ['used', col((k) => (m[k].used ? 1 : 0))],
    ]),
    metadata: {},
  };
}

/** Each used marker's own trace as a plot series, labelled with its number and position. */
export function markerSources(result: FiducialResult): { label: string; trace: DriftTrace }[] {
  const used = result.markers.flatMap((m, k) => (m.used ? [k] : []));
  return used.map((k, q) => ({
    label: `marker #${k + 1} (${result.markers[k].x.toFixed(0)}, ${result.markers[k].y.toFixed(0)} nm)`,
    trace: result.markerTraces[q],
  }));
}

/** Pixel size (nm) of a table for Picasso picks: the parameter, else the table's own (Picasso yaml Pixelsize, PYME voxelsize.x in µm). */
export function tablePixelSizeNm(table: LocTable, given: number): number | undefined {
  if (given > 0) return given;
  const p = Number(table.metadata.Pixelsize);
  if (p > 0) return p;
  const v = Number(table.metadata['voxelsize.x']);
  return v > 0 ? (v < 10 ? v * 1000 : v) : undefined;
}

export const locsFiducial = defineModule({
  name: 'ccdrift.Locs_Fiducial',
  summary: 'Measure drift from fiducial markers (beads): found automatically or picked, tracked per frame, combined with robust weights.',
  inputs: {
    input_localizations: { kind: 'table', default: 'Localizations', description: 'table the drift is measured on (x, y[, z] nm, t frames)' },
    input_drift: {
      kind: 'drift',
      default: '',
      optional: true,
      description:
        "drift another method measured first (e.g. Locs_RCC's or Locs_AIM's output_drift; `ccdrift locs --then fiducial`): the markers are tracked after it, " +
        'picks are in its coordinates, and output_drift includes it (coarse is then not used); left out: coarse decides',
    },
  },
  outputs: {
    output_drift: { kind: 'drift', default: 'drift', description: 'drift samples: the correction to add (nm), every sample_frames frames' },
    output_drift_plot: { kind: 'plot', default: 'drift_plot', description: 'plot of the measured drift samples' },
    output_localizations: {
      kind: 'table',
      default: 'fiducial_localizations',
      description: `the input with a column '${FIDUCIAL_COLUMN}': marker index + 1 for the markers' own localizations, else 0`,
    },
    output_markers: {
      kind: 'table',
      default: 'fiducial_markers',
      description: 'one row per marker: position (nm), frames found, scatter, used',
      onRequest: true,
    },
  },
  params: {
    picks: {
      schema: schemas.path,
      default: '',
      description: "markers from a file: CSV x,y[,r] (nm) or Picasso picks .yaml (pixels); '' = found automatically",
      flag: 'picks',
    },
    radius: {
      schema: schemas.positiveNumber,
      default: FIDUCIAL_DEFAULTS.radiusNm,
      unit: 'nm',
      description: "a marker's localizations stay within this radius of it (after the coarse correction); picks with their own radius keep it",
      flag: 'fiducial-radius',
    },
    min_fraction: {
      schema: z.number().gt(0).max(1),
      default: FIDUCIAL_DEFAULTS.minFraction,
      description: 'automatic search: a marker is found in at least this fraction of the frames',
      flag: 'fiducial-min-fraction',
    },
    sample_frames: {
      schema: z.number().int().min(1),
      default: FIDUCIAL_DEFAULTS.sampleFrames,
      unit: 'frames',
      description: 'the combined per-frame trace is averaged over blocks of this many frames (one drift sample each)',
      flag: 'fiducial-sample-frames',
    },
    coarse: {
      schema: z.enum(['auto', 'rcc', 'none']),
      default: 'auto',
      description:
        "correction before the markers are looked for and tracked: 'rcc' (automatic RCC), 'none', 'auto' (rcc without picks, none with picks: picks are in the table's coordinates)",
    },
    pixel_size: {
      schema: z.number().min(0),
      default: 0,
      unit: 'nm',
      description: "camera pixel size for Picasso picks (0: from the table's metadata)",
    },
    flatten_z: { schema: schemas.boolean, default: false, description: 'ignore z (2D drift) even for 3D data' },
  },
  async run(ctx, inputs, params) {
    const table = inputs.input_localizations;
    const picksPath = params.picks;
    const picks = picksPath ? await readPicks(resolve(ctx.cwd, picksPath), { pixelSizeNm: tablePixelSizeNm(table, params.pixel_size) }) : undefined;
    const result = await estimateDriftFromLocs(
      table,
      {
        method: 'fiducial',
        picks,
        radiusNm: params.radius,
        minFraction: params.min_fraction,
        sampleFrames: params.sample_frames,
        coarse: inputs.input_drift ?? params.coarse,
        flattenZ: params.flatten_z,
      },
      { executor: ctx.executor, progress: ctx.progress, yieldNow: createYielder() },
    );
    const fid = result.fiducial!;
    const plot: DriftPlotData = { sources: [{ label: 'measured (fiducials)', trace: result.drift }, ...markerSources(fid)], title: 'Measured drift' };
    return {
      output_drift: result.drift,
      output_drift_plot: plot,
      output_localizations: flagFiducialRows(table, fid),
      output_markers: markerTable(fid),
      [REPORT_KEY]: result.choices.summary,
      [DETAILS_KEY]: result,
    };
  },
});
