// The one versions file: every version, pin and tag template of the chain lives here.
// Loaded and validated once; everything else imports the `ChainConfig` type.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod/mini';
import './zod-messages';

export const DEFAULT_CONFIG_FILE = 'images/versions.json';

// A Docker tag component: what `docker tag` accepts after the colon.
const TAG_COMPONENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
// A repository path: lowercase components, optionally behind a registry host[:port].
const REPOSITORY = /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
// PEP 440 release versions as pinned here: 1.4.2, 2.0rc1, 1.26.4.post1.
const VERSION = /^[0-9]+(\.[0-9]+)*((a|b|rc)[0-9]+)?(\.post[0-9]+)?(\.dev[0-9]+)?$/;
const PACKAGE = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const DIGEST_REF = /@sha256:[0-9a-f]{64}$/;

const version = (what: string) =>
  z.string({ error: `must be a string with the ${what} version, e.g. "1.4.2"` })
    .check(z.regex(VERSION, { error: `must be a version like "1.4.2" (digits and dots)` }));

const pins = z.record(
  z.string().check(z.regex(PACKAGE, { error: 'must be a Python package name' })),
  z.string().check(
    z.regex(/^[0-9][A-Za-z0-9.+!-]*$/, { error: 'must be an exact version like "1.26.4" (no ranges: pins are exact)' }),
    z.describe('The exact version of one package (no ranges).'),
  ),
  { error: 'must be an object mapping package names to exact versions' },
).check(z.describe('One stage\'s pins: package name to exact version.'));

const imageName = z.strictObject({
  repository: z.string().check(
    z.regex(REPOSITORY, { error: 'must be a lowercase Docker repository name, e.g. "sklearn-base"' }),
    z.describe('The Docker repository of the stage\'s image (lowercase, optionally behind a registry host).'),
  ),
  tag: z.string().check(
    z.minLength(1, { error: 'must be a tag template, e.g. "{sklearnMinor}-{sagemaker}-cpu-py{python}"' }),
    z.describe('Tag template, rendered from the line\'s variables (the OS stage\'s: {suite}, {variant}); it must render to a tag Docker accepts. Applied to the recorded image after every run, so not in the image stages\' cache keys (docker-push\'s holds the tags it publishes).'),
  ),
}, { error: 'must be an object with "repository" and "tag"' }).check(z.describe('One stage\'s image name.'));

const line = z.strictObject({
  sklearn: version('scikit-learn').check(z.describe('The scikit-learn version: {sklearn}, and {sklearnMinor} (major.minor). Must agree with the line\'s name and with pins.base.scikit-learn.')),
  sagemaker: z.string().check(
    z.regex(/^[0-9]+$/, { error: 'must be the SageMaker image version, a whole number as a string, e.g. "2"' }),
    z.describe('The SageMaker image version, a whole number: {sagemaker}; the second part of the line\'s name.'),
  ),
  python: z.string().check(
    z.regex(/^[0-9]+(\.[0-9]+)?$/, { error: 'must be the Python version used in tags, e.g. "3" or "3.11"' }),
    z.describe('The Python version tags name: {python}. It does not choose the interpreter the images install.'),
  ),
  os: z.string({ error: 'must name the Debian suite the line\'s images are built on, a key of "os", e.g. "bookworm"' })
    .check(z.describe('The Debian suite the line is built on: a key of the top-level "os", whose OS stage its base is built FROM. {suite}, {variant}, {mirror} and {python3} are that suite\'s.')),
  extension: version('sagemaker-scikit-learn-extension').check(z.describe('The sagemaker-scikit-learn-extension version: {extension}.')),
  pins: z.record(z.string(), pins, { error: 'must map stage names to pin objects' }).check(z.describe(
    'Exact pins per stage (stage name to pins), rendered as {pins.<stage>} ("name==version ...", sorted). A stage\'s pins reach its image only through its requirements lock; a package pinned in two stages must be pinned alike.',
  )),
}, { error: 'must be an object describing a version line' }).check(z.describe('One version line: the versions its images are built with.'));

const SUITE = /^[a-z]+$/;

const osSettings = z.strictObject({
  source: z.enum(['debootstrap', 'registry'], { error: 'must be "debootstrap" (build from Debian\'s archive) or "registry" (pull a pinned image)' })
    .check(z.describe('"debootstrap": bootstrap a root file system from a Debian mirror and import it; "registry": pull the pinned "image" and add the labels.')),
  variant: z.enum(['minbase', 'buildd', 'fakechroot'], { error: 'must be a debootstrap variant, e.g. "minbase"' })
    .check(z.describe('The debootstrap --variant: {variant}.')),
  mirror: z.url({ error: 'must be the URL of a Debian mirror, e.g. "http://deb.debian.org/debian"' })
    .check(z.describe('The Debian mirror debootstrap fetches from, and the images\' apt sources name: {mirror}.')),
  include: z.array(z.string().check(z.regex(/^[a-z0-9][a-z0-9+.-]+$/, { error: 'must be a Debian package name' })), { error: 'must be a list of Debian package names' })
    .check(z.describe('Extra Debian packages debootstrap installs (--include).')),
  python3: z.string({ error: 'must be the major.minor version of the suite\'s python3, e.g. "3.13"' }).check(
    z.regex(/^3\.[0-9]+$/, { error: 'must be the major.minor version of the suite\'s python3, e.g. "3.13"' }),
    z.describe('The version (major.minor) of the suite\'s python3, which the images run: {python3}. The base stage checks its interpreter is this one, so the README\'s table of lines, made from this file, stays true.'),
  ),
  image: z.optional(z.string().check(z.regex(DIGEST_REF, { error: 'must be an image pinned by digest, e.g. "debian:trixie-slim@sha256:<64 hex>"' })))
    .check(z.describe('With source "registry" (and needed there): the OS image, pinned by digest (name@sha256:<64 hex>).')),
}, { error: 'must be an object describing one suite\'s OS layer' }).check(
  z.refine((os) => os.source !== 'registry' || os.image !== undefined, {
    error: 'source "registry" needs "image": an image reference pinned by digest',
    path: ['image'],
  }),
  z.describe('How one Debian suite\'s OS layer is made: the options of that suite\'s os stage, so a change here rebuilds only the lines on it.'),
);

export const configSchema = z.strictObject({
  $schema: z.optional(z.string()).check(z.describe('A JSON schema for editors; the chain does not read it.')),
  $comment: z.optional(z.string()).check(z.describe('Free text for readers; the chain does not read it.')),
  defaultLine: z.string({ error: 'must name the version line that bare project names build, e.g. "1.4-2"' })
    .check(z.describe('The line that bare project names (base, final, extension) build; the other lines\' projects carry the line ("base-1.2-1"). Must name an entry of "lines".')),
  source: z.url({ error: 'must be the URL of the source repository (used in the org.opencontainers.image.source label)' })
    .check(z.describe('The source repository\'s URL, written into every image\'s org.opencontainers.image.source label.')),
  docker: z._default(z.strictObject({
    client: z._default(z.string().check(z.minLength(1)), 'docker').check(z.describe('The Docker client binary every engine call runs.')),
    platform: z.optional(z.string().check(z.regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, { error: 'must be a platform like "linux/amd64"' })))
      .check(z.describe('The platform every image is built for, e.g. "linux/amd64"; the host\'s when left out. Part of every image stage\'s cache key.')),
    network: z._default(z.enum(['host', 'default', 'none'], { error: 'must be "host", "default" or "none"' }), 'host')
      .check(z.describe('The network the RUN steps of Dockerfile builds use: "host" where they fetch packages through the host\'s network.')),
    builder: z._default(z.enum(['buildkit', 'classic'], { error: 'must be "buildkit" or "classic"' }), 'buildkit')
      .check(z.describe('What builds Dockerfile stages: "buildkit" (through the client\'s buildx plugin; where it is missing, the classic builder with a warning) or "classic" (Docker\'s deprecated legacy builder: no build secrets, so no extra CA certificates). Part of every image stage\'s cache key.')),
  }), { client: 'docker', network: 'host', builder: 'buildkit' }).check(z.describe('How the chain calls the container engine (every image target and the task hooks).')),
  os: z.record(
    z.string().check(z.regex(SUITE, { error: 'must be a Debian suite name, e.g. "trixie"' })),
    osSettings,
    { error: 'must map Debian suite names to their OS settings, e.g. {"trixie": {"source": "debootstrap", ...}}' },
  ).check(z.describe('The OS layers under the lines: Debian suite name ({suite}) to how its os stage makes it. Each suite a line names gets an os stage of its own (the default line\'s is "os", others "os-<suite>"); a suite no line names builds nothing.')),
  publish: z.optional(z.strictObject({
    registry: z.optional(z.string().check(z.regex(/^[a-zA-Z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)*$/, { error: 'must be a registry address like "123456789012.dkr.ecr.us-west-2.amazonaws.com" or "127.0.0.1:5000/prefix"' })))
      .check(z.describe('The registry builds push to by digest and docker-push publishes to; IMAGE_CHAIN_REGISTRY overrides it. Part of every image stage\'s cache key.')),
    singleRepository: z.string().check(
      z.regex(REPOSITORY, { error: 'must be a lowercase repository name, e.g. "sagemaker-scikit-learn"' }),
      z.describe('One repository that also gets the stages of singleRepositoryStages, each tag prefixed with its stage name ("extension-2.5.0-2-cpu-py3").'),
    ),
    singleRepositoryStages: z._default(z.array(z.string()), []).check(z.describe('The stages docker-push also publishes into singleRepository.')),
  }, { error: 'must be an object: {"registry"?, "singleRepository", "singleRepositoryStages"}' }))
    .check(z.describe('Where images are pushed and published; without a registry (here or in IMAGE_CHAIN_REGISTRY) images stay in the local engine.')),
  images: z.record(z.string(), imageName, { error: 'must map stage names to {repository, tag}' })
    .check(z.describe('Each stage\'s image name: stage name to repository and tag template. Every stage needs an entry.')),
  lines: z.record(
    z.string().check(z.regex(/^[0-9]+\.[0-9]+-[0-9]+$/, { error: 'line names look like "<sklearn major.minor>-<sagemaker version>", e.g. "1.4-2"' })),
    line,
    { error: 'must map line names to version lines' },
  ).check(z.describe('The version lines, built side by side from the same stage folders: name ("<sklearn major.minor>-<sagemaker>", e.g. "1.4-2") to its versions. The name is {line}.')),
}).check(z.superRefine((cfg, ctx) => {
  if (!(cfg.defaultLine in cfg.lines)) {
    ctx.addIssue({ code: 'custom', path: ['defaultLine'], message: `names no line in "lines" (have: ${Object.keys(cfg.lines).join(', ') || 'none'})` });
  }
  for (const [name, l] of Object.entries(cfg.lines)) {
    if (!(l.os in cfg.os)) {
      ctx.addIssue({ code: 'custom', path: ['lines', name, 'os'], message: `names no suite in "os" (have: ${Object.keys(cfg.os).join(', ') || 'none'}): add "os": {"${l.os}": {...}} or name one of those` });
    }
    const expected = `${sklearnMinor(l.sklearn)}-${l.sagemaker}`;
    if (name !== expected) {
      ctx.addIssue({ code: 'custom', path: ['lines', name], message: `is named "${name}" but its sklearn ${l.sklearn} and sagemaker ${l.sagemaker} make "${expected}": rename the line or fix the versions` });
    }
    // A package pinned in two stages of a line must be pinned alike: the later stage would
    // otherwise replace what the earlier one installed (the images refuse that mid-build).
    const seen = new Map<string, { stage: string; version: string }>();
    for (const [stage, table] of Object.entries(l.pins)) {
      for (const [pkg, version] of Object.entries(table)) {
        const key = normalizeName(pkg);
        const first = seen.get(key);
        if (first && first.version !== version) {
          ctx.addIssue({ code: 'custom', path: ['lines', name, 'pins', stage, pkg], message: `is ${version} but pins.${first.stage} has ${pkg} ${first.version}: pins of one line cannot work together unless they agree` });
        }
        if (!first) seen.set(key, { stage, version });
      }
    }
    const pinned = l.pins.base?.['scikit-learn'];
    if (pinned !== undefined && pinned !== l.sklearn) {
      ctx.addIssue({ code: 'custom', path: ['lines', name, 'pins', 'base', 'scikit-learn'], message: `is ${pinned} but the line's "sklearn" is ${l.sklearn}: they must agree` });
    }
  }
}));

export type ChainConfig = z.infer<typeof configSchema>;
export type VersionLine = ChainConfig['lines'][string];

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function sklearnMinor(v: string): string {
  return v.split('.').slice(0, 2).join('.');
}

/** Formats zod issues as "file: field.path: message" lines a user can act on. */
export function describeIssues(file: string, error: z.core.$ZodError): string {
  const lines = error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove or rename them`;
    if (issue.code === 'invalid_type' && issue.input === undefined) message = `is missing: ${issue.message}`;
    return `  ${file}: ${field}: ${message}`;
  });
  return `Invalid configuration in ${file}:\n${lines.join('\n')}`;
}

export function parseConfig(raw: unknown, file: string): ChainConfig {
  refuseSingleOs(raw, file);
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(describeIssues(file, result.error));
  return result.data;
}

/** Versions files written before lines chose their OS had one "os" object with a "suite": say how to move it. */
function refuseSingleOs(raw: unknown, file: string): void {
  const os = (raw as { os?: unknown } | null)?.os;
  if (typeof os !== 'object' || os === null || typeof (os as { suite?: unknown }).suite !== 'string') return;
  const suite = (os as { suite: string }).suite;
  throw new ConfigError(
    `Invalid configuration in ${file}:\n  ${file}: os: has one OS ("suite": "${suite}"), but each line now names its suite: ` +
      `write "os": {"${suite}": {<these settings without "suite">}} and add "os": "${suite}" to every line`,
  );
}

/** How nx.json names this plugin (its "plugin" field), with or without "./" and "/index". */
const PLUGIN_PATH = 'tools/image-chain';

/**
 * The versions file: the "config" option of this plugin in nx.json, else the default. Executors
 * and scripts read it here, so they use the same file as the plugin that made the graph.
 */
export function configuredFile(workspaceRoot: string): string {
  try {
    const nxJson = JSON.parse(readFileSync(join(workspaceRoot, 'nx.json'), 'utf8')) as { plugins?: unknown[] };
    for (const entry of nxJson.plugins ?? []) {
      if (typeof entry !== 'object' || entry === null) continue;
      const { plugin, options } = entry as { plugin?: unknown; options?: { config?: unknown } };
      const path = typeof plugin === 'string' ? plugin.replace(/^\.\//, '').replace(/\/(index(\.[jt]s)?)?$/, '') : null;
      if (path === PLUGIN_PATH && typeof options?.config === 'string') return options.config;
    }
  } catch {
    // No readable nx.json: the default (Nx itself reports a broken nx.json).
  }
  return DEFAULT_CONFIG_FILE;
}

export function loadConfig(workspaceRoot: string, file = configuredFile(workspaceRoot)): ChainConfig {
  const path = join(workspaceRoot, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(`Cannot read the versions file ${file}: create it (see README "Version lines") or set the plugin option "config" in nx.json.`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  return parseConfig(raw, file);
}

/** PEP 503 name normalization: "Flask", "zope.event" and "zope_event" name one project each. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

export const REGISTRY_ENV = 'IMAGE_CHAIN_REGISTRY';

/** The registry images travel through: IMAGE_CHAIN_REGISTRY, else the resolved publish.registry, else none. */
export function registryOf(configured: string | null): string | null {
  return process.env[REGISTRY_ENV] || configured || null;
}

/**
 * Where builds push by digest: the registry, unless IMAGE_CHAIN_PUSH=false. Untrusted runs
 * (pull requests) name the registry too, so their cache keys match the shared entries and they
 * pull what those recorded, but cannot push: what they build stays local (and their read-only
 * cache token keeps it out of the shared cache).
 */
export function pushRegistryOf(configured: string | null): string | null {
  return pushForbidden() ? null : registryOf(configured);
}

/** IMAGE_CHAIN_PUSH=false: this run may pull from the registry but never push to it. */
export function pushForbidden(): boolean {
  return process.env.IMAGE_CHAIN_PUSH === 'false';
}
