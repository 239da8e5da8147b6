// Prints each version line's images, the default line first, one line per version line:
//   <line> <final image> <extension image>
// for the shell benchmarks (bench/serving.sh): the names come from the versions file, as nx applies them.
//   tools/node/env.sh node -r @swc-node/register bench/line-images.ts
import { globSync } from 'tinyglobby';
import { loadConfig } from '../tools/image-chain/src/config';
import { buildChainModel } from '../tools/image-chain/src/model';
import { REPO } from './common';

const config = loadConfig(REPO);
// One model for every line (common.ts's tagOf builds one per name).
const { images } = buildChainModel(REPO, globSync('images/*/stage.json', { cwd: REPO }), config, 'images/versions.json');
const tag = (stage: string, line: string) => images.find((i) => i.stage === stage && i.line === line)!.tags[0];
const lines = [config.defaultLine, ...Object.keys(config.lines).filter((l) => l !== config.defaultLine).sort().reverse()];
for (const line of lines) console.log([line, tag('final', line), tag('extension', line)].join(' '));
