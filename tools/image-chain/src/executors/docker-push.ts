// Publishes a stage: its release tags (and the single-repository tag where configured) in the
// registry, pointing at the digest its build pushed. Runs only after the container tests pass.
import type { ExecutorContext } from '@nx/devkit';
import { join } from 'node:path';
import { pushForbidden, registryOf } from '../config';
import { engineFor } from '../engines';
import type { DockerPushOptions } from '../options';
import { presentImage } from '../presence';
import { publishTags } from '../publish';
import { pushRecordDir, writeAtomically } from '../record';
import { reportFailure } from '../report';

export default async function dockerPush(options: DockerPushOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const project = options.image;
  try {
    const registry = registryOf(options.registry);
    if (pushForbidden()) {
      throw new Error('IMAGE_CHAIN_PUSH=false: this run may not push; leave docker-push out of it (tools/ci/pipeline.sh does)');
    }
    if (!registry) {
      throw new Error('No registry to push to: set IMAGE_CHAIN_REGISTRY (e.g. 127.0.0.1:5000) or "publish.registry" in images/versions.json');
    }
    const engine = engineFor(options.engine);
    const record = await presentImage(context.root, engine, project);
    const published = await publishTags(engine, registry, record, options.tags);
    writeAtomically(join(context.root, pushRecordDir(project), 'push.json'), `${JSON.stringify({ image: record.image, pushed: record.pushed, published }, null, 2)}\n`);
    for (const p of published) console.log(`${project}: ${p.ref} -> ${p.digest}`);
    return { success: true };
  } catch (e) {
    reportFailure(project, e as Error, 'Nothing was recorded as published; tags pushed before the failure point at the recorded digest only.');
    return { success: false };
  }
}
