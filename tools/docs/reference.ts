// Writes what is generated from the zod schemas: the JSON schemas Nx reads for the executors
// (tools/image-chain/schemas/<executor>.json) and docs/reference.md. Without --write it checks
// them and exits 1 naming the stale ones.
//   tools/node/env.sh node -r @swc-node/register tools/docs/reference.ts [--write]   (npm run generate)
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as z from 'zod/mini';
import { configSchema, type ChainConfig } from '../image-chain/src/config';
import { EXECUTOR_OPTIONS } from '../image-chain/src/options';
import { stageSchema } from '../image-chain/src/stage';
import { lineVariables, osVariables } from '../image-chain/src/template';

export const ROOT = resolve(__dirname, '../..');
export const SCHEMA_DIR = 'tools/image-chain/schemas';
export const REFERENCE = 'docs/reference.md';
export const REGENERATE = 'npm run generate';

/** The part of JSON Schema that z.toJSONSchema writes for these schemas. */
interface JsonSchema {
  type?: string;
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  format?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

// Input, not output: a field with a default is optional to whoever writes it.
function jsonSchema(schema: z.core.$ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input' }) as JsonSchema;
}

export function schemaPath(executor: string): string {
  return `${SCHEMA_DIR}/${executor}.json`;
}

/** The executor's schema as Nx reads it (executors.json points at it). */
function executorSchemaFile(executor: keyof typeof EXECUTOR_OPTIONS): string {
  return `${JSON.stringify(jsonSchema(EXECUTOR_OPTIONS[executor]), null, 2)}\n`;
}

const code = (value: unknown) => `\`${JSON.stringify(value)}\``;

/** The variables templates may use, as template.ts gives them: a line's, and the OS stage's. */
function templateVariables(): { line: string[]; os: string[] } {
  const sample = {
    os: { suite: { variant: '', mirror: '', python3: '' } },
    lines: { line: { sklearn: '0.0', sagemaker: '0', python: '0', os: 'suite', extension: '0', pins: { '<stage>': {} } } },
  } as unknown as ChainConfig;
  const names = (vars: Record<string, string>) => Object.keys(vars).map((v) => `\`{${v}}\``);
  return { line: names(lineVariables(sample, 'line')), os: names(osVariables(sample, 'suite')) };
}

const list = (items: string[]) => `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;

/** A schema without its "or null" branch, if it has one. */
function nonNull(s: JsonSchema): JsonSchema {
  const branches = s.anyOf?.filter((b) => b.type !== 'null');
  return branches?.length === 1 ? branches[0] : s;
}

function typeOf(s: JsonSchema): string {
  if (s.anyOf) return s.anyOf.map(typeOf).join(' or ');
  if (s.const !== undefined) return code(s.const);
  if (s.enum) return `one of ${s.enum.map(code).join(', ')}`;
  if (s.type === 'array') return `array of ${s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'object' && !s.properties && typeof s.additionalProperties === 'object') return `map of ${typeOf(s.additionalProperties)}`;
  if (s.type === 'string' && s.format === 'uri') return 'string (URL)';
  return s.type ?? 'any';
}

/** The field's own description, then its nullable branch's. */
function descriptionOf(s: JsonSchema): string {
  return [s.description, ...(s.anyOf ?? []).map((b) => b.description)].filter(Boolean).join(' ');
}

interface Row {
  name: string;
  type: string;
  required: string;
  description: string;
}

/** One row per field, nested objects as dotted paths, map keys as <name>, array items as []. */
function rows(schema: JsonSchema, prefix = ''): Row[] {
  const out: Row[] = [];
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    const required = prop.default !== undefined ? `default ${code(prop.default)}` : schema.required?.includes(key) ? 'required' : 'optional';
    out.push({ name: `${prefix}${key}`, type: typeOf(prop), required, description: descriptionOf(prop) });
    out.push(...inner(prop, `${prefix}${key}`));
  }
  return out;
}

// A map's values and an array's items get rows of their own only when there is more to say
// than the type column does.
function inner(prop: JsonSchema, name: string): Row[] {
  const s = nonNull(prop);
  if (s.type === 'object' && s.properties) return rows(s, `${name}.`);
  const [child, childName] =
    s.type === 'object' && typeof s.additionalProperties === 'object' ? [s.additionalProperties, `${name}.<name>`]
      : s.type === 'array' && s.items ? [s.items, `${name}[]`]
        : [null, ''];
  if (!child) return [];
  const more = inner(child, childName);
  if (!child.description && more.length === 0) return [];
  return [{ name: childName, type: typeOf(child), required: '—', description: descriptionOf(child) }, ...more];
}

// Schema text as Markdown: outside code spans "<line>" would be taken for an HTML tag and "*"
// for emphasis.
function inline(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .split(/(`[^`]*`)/)
    .map((part) => (part.startsWith('`') ? part : part.replace(/</g, '&lt;').replace(/\*/g, '\\*')))
    .join('');
}

// A table cell also escapes its pipes, inside code spans too (tables split on them first).
const cell = (text: string) => inline(text).replace(/\|/g, '\\|');

function table(list: Row[]): string {
  return [
    '| field | type | required | description |',
    '|---|---|---|---|',
    ...list.map((r) => `| \`${r.name}\` | ${cell(r.type)} | ${cell(r.required)} | ${cell(r.description) || '—'} |`),
  ].join('\n');
}

function executorDescriptions(root: string): Record<string, string> {
  const file = JSON.parse(readFileSync(join(root, 'tools/image-chain/executors.json'), 'utf8')) as { executors: Record<string, { description?: string }> };
  return Object.fromEntries(Object.entries(file.executors).map(([name, e]) => [name, e.description ?? '']));
}

export function referenceMarkdown(root = ROOT): string {
  const config = jsonSchema(configSchema);
  const stage = jsonSchema(stageSchema);
  const described = executorDescriptions(root);
  const variables = templateVariables();
  const out = [
    '# Reference',
    '',
    `<!-- Generated by tools/docs/reference.ts from the zod schemas: edit the schemas, then run \`${REGENERATE}\`. The tests fail while this file is stale. -->`,
    '',
    'Every field of the versions file, of a stage file and of each executor\'s options, as the',
    'schemas that validate them say. A required field must be there whenever the object it',
    'belongs to is; `<name>` is a key you choose (a line, a stage, a package); `[]` is an item of',
    'a list. Templates (`"{sklearn}"`) may use the variables of the line they are rendered for:',
    `${list(variables.line)}; the OS stage only ${list(variables.os)}.`,
    'Why the chain is built this way: [design.md](design.md).',
    '',
    '## The versions file',
    '',
    '`images/versions.json` (or the file the plugin\'s `config` option in nx.json names); schema',
    '`configSchema` in `tools/image-chain/src/config.ts`. It is validated on every Nx command.',
    '',
    table(rows(config)),
    '',
    '## Stage files',
    '',
    '`images/<stage>/stage.json`; schema `stageSchema` in `tools/image-chain/src/stage.ts`.',
    `${inline(stage.description ?? '')} \`"kind"\` chooses one of two forms.`.trimStart(),
  ];
  for (const variant of stage.oneOf ?? []) {
    out.push('', `### \`"kind": ${JSON.stringify(variant.properties?.kind?.const)}\``, '', table(rows(variant)));
  }
  out.push(
    '',
    '## Executor options',
    '',
    'The plugin infers every image target (and the wheel\'s `build`) as an `nx:run-commands` target',
    'whose command is `node tools/image-chain/run.js <executor> {projectRoot}`, with the options as',
    'JSON in the target\'s `env.IMAGE_CHAIN_OPTIONS`: `./nx show project <name>` shows them. The',
    'command parses them against the executor\'s schema (`tools/image-chain/src/options.ts`) and',
    'refuses unknown or missing fields. A project.json target can run the same executor as',
    '`"executor": "./tools/image-chain:<executor>"`; Nx then reads the JSON schema named below.',
  );
  for (const name of Object.keys(EXECUTOR_OPTIONS) as (keyof typeof EXECUTOR_OPTIONS)[]) {
    const schema = jsonSchema(EXECUTOR_OPTIONS[name]);
    const about = [described[name], schema.description, `JSON schema: \`${schemaPath(name)}\`.`].filter((t): t is string => !!t).map(inline).join(' ');
    out.push('', `### \`${name}\``, '', about, '', table(rows(schema)));
  }
  return `${out.join('\n')}\n`;
}

/** Every generated file (workspace-relative path → text). */
export function generatedFiles(root = ROOT): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of Object.keys(EXECUTOR_OPTIONS) as (keyof typeof EXECUTOR_OPTIONS)[]) files.set(schemaPath(name), executorSchemaFile(name));
  files.set(REFERENCE, referenceMarkdown(root));
  return files;
}

/** Schema files no executor makes any more. */
export function strayFiles(root = ROOT, files = generatedFiles(root)): string[] {
  const dir = join(root, SCHEMA_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((f) => `${SCHEMA_DIR}/${f}`).filter((f) => f.endsWith('.json') && !files.has(f));
}

function current(root: string, file: string): string | null {
  try {
    return readFileSync(join(root, file), 'utf8');
  } catch {
    return null;
  }
}

/** Generated files that differ from what the generator makes (missing ones too), and stray schemas. */
export function staleFiles(root = ROOT): string[] {
  const files = generatedFiles(root);
  return [...[...files].filter(([file, text]) => current(root, file) !== text).map(([file]) => file), ...strayFiles(root, files)];
}

if (require.main === module) {
  if (process.argv.includes('--write')) {
    const files = generatedFiles();
    for (const stray of strayFiles(ROOT, files)) rmSync(join(ROOT, stray));
    for (const [file, text] of files) if (current(ROOT, file) !== text) writeFileSync(join(ROOT, file), text);
  } else {
    const stale = staleFiles();
    if (stale.length) {
      console.error(`Out of date with the zod schemas: ${stale.join(', ')}. Run \`${REGENERATE}\`.`);
      process.exit(1);
    }
  }
}
