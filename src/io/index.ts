/** Registers every file format; import this once before calling the readers/writers. */
import { csvFormat } from './csv.js';
import { registerImageFormat, registerTableFormat } from './formats.js';
import { picassoFormat, pymeImageFormat, pymeTableFormat } from './hdf5/index.js';

registerTableFormat(csvFormat);
registerTableFormat(pymeTableFormat);
registerTableFormat(picassoFormat);
registerImageFormat(pymeImageFormat);

export * from './formats.js';
