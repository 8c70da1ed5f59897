/** Registers every file format; import this once before calling the readers/writers. */
export * from './formats.js';
