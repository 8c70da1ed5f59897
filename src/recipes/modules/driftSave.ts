import { isAbsolute, resolve } from 'node:path';
import { writeDriftNpz } from '../../io/npz.js';
import { schemas, type ModuleDecl } from '../declare.js';
import { requireTrace } from './driftInterpolate.js';

export const driftSave: ModuleDecl = {
  name: 'chung_cc.Drift_Save',
  summary: 'Save drift samples as a numpy .npz (keys tIndex, drift), interchangeable with the original plugin.',
  inputs: { input_name: { default: 'drift', description: 'drift samples to save' } },
  outputs: { output_dummy: { default: 'dummy', description: 'placeholder output so the module can be scheduled' } },
  params: {
    save_path: { schema: schemas.path, default: 'drift', description: "file to write, relative to the working directory ('.npz' is appended when missing)" },
  },
  async run(ctx, inputs, params) {
    const trace = requireTrace(inputs.input_name, 'input_name');
    const p = params.save_path as string;
    const written = await writeDriftNpz(isAbsolute(p) ? p : resolve(ctx.cwd, p), trace);
    return { output_dummy: written };
  },
};
