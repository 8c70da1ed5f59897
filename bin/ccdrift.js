#!/usr/bin/env node
// Entry point: runs the built CLI (npm run build writes dist/).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv);
