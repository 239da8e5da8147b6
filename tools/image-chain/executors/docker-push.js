// Executor entry for Nx (see ../load.js for why it goes through a loader).
module.exports = require('../load').load('src/executors/docker-push');
