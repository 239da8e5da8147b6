// The engine the versions file's "docker" settings name. One place chooses the implementation,
// so executors and task hooks always talk to the engine alike.
import type { EngineSettings } from '../options';
import { BuildKitEngine } from './buildkit';
import { ClassicEngine } from './classic';
import type { ContainerEngine } from './engine';

export function engineFor(settings: EngineSettings): ContainerEngine {
  return settings.builder === 'classic' ? new ClassicEngine(settings.client, settings.network) : new BuildKitEngine(settings.client, settings.network);
}
