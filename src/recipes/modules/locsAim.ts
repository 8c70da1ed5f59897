import { estimateDriftFromLocs } from '../../core/drift/estimateDriftFromLocs.js';
import { AIM_AUTO_LOCS_PER_SEGMENT, AIM_DEFAULTS } from '../../core/drift/estimateDriftAim.js';
import type { DriftPlotData } from '../../plot/driftPlot.js';
import { createYielder } from '../../core/registration/yieldNow.js';
import { autoOr, defineModule, DETAILS_KEY, REPORT_KEY, schemas } from '../declare.js';
import { z } from 'zod';

export const locsAim = defineModule({
  name: 'ccdrift.Locs_AIM',
  summary:
    'Measure drift by adaptive intersection maximization (AIM; Ma et al., Sci. Adv. 2024): segments registered in turn within a search radius, then again against all other localizations.',
  inputs: {
    input_localizations: { kind: 'table', default: 'Localizations', description: 'table the drift is measured on (x, y[, z] nm, t frames)' },
  },
  outputs: {
    output_drift: { kind: 'drift', default: 'drift', description: 'drift samples: the correction to add (nm) at each segment' },
    output_drift_plot: { kind: 'plot', default: 'drift_plot', description: 'plot of the measured drift samples' },
  },
  params: {
    segment: {
      schema: autoOr(z.number().int().min(1)),
      default: 'auto',
      unit: 'frames',
      description: `frames per segment (one drift sample each); 'auto': enough frames for ${AIM_AUTO_LOCS_PER_SEGMENT} localizations per segment on average, at least ${AIM_DEFAULTS.segmentFrames}`,
      flag: 'segment',
    },
    intersect_distance: {
      schema: schemas.positiveNumber,
      default: AIM_DEFAULTS.intersectDistanceNm,
      unit: 'nm',
      description: 'localizations closer than this count as intersecting (the reference is blurred by half of it)',
      flag: 'intersect-distance',
    },
    max_drift: {
      schema: schemas.positiveNumber,
      default: AIM_DEFAULTS.maxDriftNm,
      unit: 'nm',
      description: "search radius around the previous segment's drift: the most drift expected between segments (peaks on its border are searched 4× wider)",
      flag: 'max-drift',
    },
    max_drift_z: {
      schema: autoOr(schemas.positiveNumber),
      default: 'auto',
      unit: 'nm',
      description: "axial search radius; 'auto': 2 × max_drift",
    },
    flatten_z: { schema: schemas.boolean, default: false, description: 'ignore z (2D drift) even for 3D data' },
  },
  async run(ctx, inputs, params) {
    const table = inputs.input_localizations;
    const result = await estimateDriftFromLocs(
      table,
      {
        method: 'AIM',
        segmentFrames: params.segment,
        intersectDistanceNm: params.intersect_distance,
        maxDriftNm: params.max_drift,
        maxDriftZNm: params.max_drift_z === 'auto' ? undefined : params.max_drift_z,
        flattenZ: params.flatten_z,
      },
      { executor: ctx.executor, progress: ctx.progress, yieldNow: createYielder() },
    );
    const plot: DriftPlotData = { sources: [{ label: 'measured (AIM)', trace: result.drift }], title: 'Measured drift' };
    return { output_drift: result.drift, output_drift_plot: plot, [REPORT_KEY]: result.choices.summary, [DETAILS_KEY]: result };
  },
});
