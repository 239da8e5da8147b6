// Prints each version line's images, the default line first, one line per version line:
//   <line> <final image> <extension image>
// for the shell benchmarks (bench/serving.sh): the names come from the versions file, as nx applies them.
//   tools/node/env.sh node -r @swc-node/register bench/line-images.ts
import { loadConfig } from '../tools/image-chain/src/config';
import { projectName } from '../tools/image-chain/src/tags';
import { REPO, tagOf } from './common';

const config = loadConfig(REPO);
const lines = [config.defaultLine, ...Object.keys(config.lines).filter((l) => l !== config.defaultLine).sort().reverse()];
for (const line of lines) {
  console.log([line, tagOf(REPO, projectName('final', line, config.defaultLine)), tagOf(REPO, projectName('extension', line, config.defaultLine))].join(' '));
}
