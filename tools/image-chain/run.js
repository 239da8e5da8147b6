// Command entry of the inferred targets (see src/run.ts; load.js for why it goes through a loader).
'use strict';
require('./load')
  .load('src/run')
  .main()
  .then((code) => { process.exitCode = process.exitCode || code; });
