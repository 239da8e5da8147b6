// Executor entry for Nx (see ../load.js for why it goes through a loader): the options are parsed
// against the executor's schema first, as run.js does for the inferred targets.
'use strict';
const { load } = require('../load');
module.exports = load('src/run').asNxExecutor('docker-push', (name) => load(`src/executors/${name}`).default);
