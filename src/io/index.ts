/** Registers every file format; import this once before calling the readers/writers. */
import { csvFormat } from './csv.js';
import { registerTableFormat } from './formats.js';

registerTableFormat(csvFormat);

export * from './formats.js';
