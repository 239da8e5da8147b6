// Command entry of the inferred targets (see src/run.ts; load.js for why it goes through a loader).
// Only the named executor is loaded: run.ts checks the name first.
'use strict';
const { load } = require('./load');
load('src/run')
  .main(process.argv.slice(2), (name) => load(`src/executors/${name}`).default)
  .then((code) => { process.exitCode = process.exitCode || code; });
