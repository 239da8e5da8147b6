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
  z.string().check(z.regex(/^[0-9][A-Za-z0-9.+!-]*$/, { error: 'must be an exact version like "1.26.4" (no ranges: pins are exact)' })),
  { error: 'must be an object mapping package names to exact versions' },
);

const imageName = z.strictObject({
  repository: z.string().check(z.regex(REPOSITORY, { error: 'must be a lowercase Docker repository name, e.g. "sklearn-base"' })),
  tag: z.string().check(z.minLength(1, { error: 'must be a tag template, e.g. "{sklearnMinor}-{sagemaker}-cpu-py{python}"' })),
}, { error: 'must be an object with "repository" and "tag"' });

const line = z.strictObject({
  sklearn: version('scikit-learn'),
  sagemaker: z.string().check(z.regex(/^[0-9]+$/, { error: 'must be the SageMaker image version, a whole number as a string, e.g. "2"' })),
  python: z.string().check(z.regex(/^[0-9]+(\.[0-9]+)?$/, { error: 'must be the Python version used in tags, e.g. "3" or "3.11"' })),
  extension: version('sagemaker-scikit-learn-extension'),
  pins: z.record(z.string(), pins, { error: 'must map stage names to pin objects' }),
}, { error: 'must be an object describing a version line' });

const osSection = z.strictObject({
  source: z.enum(['debootstrap', 'registry'], { error: 'must be "debootstrap" (build from Debian\'s archive) or "registry" (pull a pinned image)' }),
  suite: z.string().check(z.regex(/^[a-z]+$/, { error: 'must be a Debian suite name, e.g. "bookworm"' })),
  variant: z.enum(['minbase', 'buildd', 'fakechroot'], { error: 'must be a debootstrap variant, e.g. "minbase"' }),
  mirror: z.url({ error: 'must be the URL of a Debian mirror, e.g. "http://deb.debian.org/debian"' }),
  include: z.array(z.string().check(z.regex(/^[a-z0-9][a-z0-9+.-]+$/, { error: 'must be a Debian package name' })), { error: 'must be a list of Debian package names' }),
  image: z.optional(z.string().check(z.regex(DIGEST_REF, { error: 'must be an image pinned by digest, e.g. "debian:bookworm-slim@sha256:<64 hex>"' }))),
}, { error: 'must be an object describing the OS layer' }).check(
  z.refine((os) => os.source !== 'registry' || os.image !== undefined, {
    error: 'source "registry" needs "image": an image reference pinned by digest',
    path: ['image'],
  }),
);

export const configSchema = z.strictObject({
  $schema: z.optional(z.string()),
  $comment: z.optional(z.string()),
  defaultLine: z.string({ error: 'must name the version line that bare project names build, e.g. "1.4-2"' }),
  source: z.url({ error: 'must be the URL of the source repository (used in the org.opencontainers.image.source label)' }),
  docker: z._default(z.strictObject({
    client: z._default(z.string().check(z.minLength(1)), 'docker'),
    platform: z.optional(z.string().check(z.regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, { error: 'must be a platform like "linux/amd64"' }))),
    network: z._default(z.enum(['host', 'default', 'none'], { error: 'must be "host", "default" or "none"' }), 'host'),
  }), { client: 'docker', network: 'host' }),
  os: osSection,
  publish: z.optional(z.strictObject({
    registry: z.optional(z.string().check(z.regex(/^[a-zA-Z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)*$/, { error: 'must be a registry address like "123456789012.dkr.ecr.us-west-2.amazonaws.com" or "127.0.0.1:5000/prefix"' }))),
    singleRepository: z.string().check(z.regex(REPOSITORY, { error: 'must be a lowercase repository name, e.g. "sagemaker-scikit-learn"' })),
    singleRepositoryStages: z._default(z.array(z.string()), []),
  }, { error: 'must be an object: {"registry"?, "singleRepository", "singleRepositoryStages"}' })),
  images: z.record(z.string(), imageName, { error: 'must map stage names to {repository, tag}' }),
  lines: z.record(
    z.string().check(z.regex(/^[0-9]+\.[0-9]+-[0-9]+$/, { error: 'line names look like "<sklearn major.minor>-<sagemaker version>", e.g. "1.4-2"' })),
    line,
    { error: 'must map line names to version lines' },
  ),
}).check(z.superRefine((cfg, ctx) => {
  if (!(cfg.defaultLine in cfg.lines)) {
    ctx.addIssue({ code: 'custom', path: ['defaultLine'], message: `names no line in "lines" (have: ${Object.keys(cfg.lines).join(', ') || 'none'})` });
  }
  for (const [name, l] of Object.entries(cfg.lines)) {
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
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(describeIssues(file, result.error));
  return result.data;
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
