// What the chain asks of a container engine, whichever builder makes its images: one interface,
// an implementation per builder (buildkit.ts, classic.ts, over the client calls both share in
// docker.ts), chosen in one place (index.ts). Executors and the task hooks use nothing else, so
// errors become messages a user can act on everywhere alike.

export interface ImageInfo {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Parent: string;
  Architecture: string;
  Os: string;
  Config: { Labels: Record<string, string> | null; Env: string[] | null };
  RootFS: { Layers: string[] | null };
}

export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

export class RegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

export class BuildError extends Error {
  constructor(
    message: string,
    readonly step: string | null,
  ) {
    super(message);
    this.name = 'BuildError';
  }
}

export interface BuildOptions {
  dockerfile: string;
  context: string;
  /** The image ID the Dockerfile's FROM ${UPSTREAM} must take, exactly; each builder passes it its own way. */
  upstream: string;
  buildArgs: Record<string, string>;
  network: string;
  platform?: string;
  /** Build every step anew, not from the builder's layer cache (IMAGE_CHAIN_NO_CACHE). */
  noCache?: boolean;
  /** Files for RUN steps that mount them (RUN --mount=type=secret,id=<id>), by id: never stored in the image. */
  secrets?: Record<string, string>;
  /** Aborting it stops the build (the client is killed; the engine cancels the build). */
  signal?: AbortSignal;
}

export interface ContainerEngine {
  /** The client binary (docker.client). */
  readonly client: string;
  /** The network RUN steps use (docker.network). */
  readonly network: string;
  /** Inspects images by ID or name; absent ones are simply missing from the map. */
  inspect(refs: string[]): Promise<Map<string, ImageInfo>>;
  tag(image: string, tag: string): Promise<void>;
  /** Removes a tag (or an image nobody else uses); a missing one is not an error. */
  removeTag(ref: string): Promise<void>;
  /** Builds an image, untagged; returns its ID as this engine's image store names it. */
  build(options: BuildOptions): Promise<string>;
  /** Imports a root file system from a tar file; returns the new image ID. */
  importTar(tarFile: string, changes: string[]): Promise<string>;
  /** Pushes a tag; returns the manifest digest the registry answered. */
  push(ref: string): Promise<string>;
  pull(ref: string): Promise<void>;
}

/**
 * One Dockerfile LABEL instruction for all labels (values quoted). Labels go into the image this
 * way, not as `docker build --label`: the classic builder makes a build step, a container each,
 * per --label flag.
 */
export function labelInstruction(labels: Record<string, string>): string {
  return `LABEL ${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`;
}
