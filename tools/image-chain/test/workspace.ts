// A throw-away Nx workspace made from the fixture, driven through the real nx CLI against the
// real engine. Image names carry a per-workspace prefix so tests never see each other's tags.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { globSync } from 'tinyglobby';
import { expect, inject } from 'vitest';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../src/config';
import { buildChainModel, lockOf } from '../src/model';
import { renderLock } from '../src/requirements-lock';
import { STAGE_GLOB } from '../src/stage';

export const REPO = resolve(__dirname, '../../..');
const FIXTURE = join(__dirname, 'fixtures/workspace');
const NX = join(REPO, 'node_modules/nx/dist/bin/nx.js');

export interface NxRun {
  code: number;
  output: string;
  /** Projects whose docker-build/build ran an executor (not served from cache). */
  ran: string[];
  /** Projects whose task was a cache hit. */
  cached: string[];
  /** Tasks ("project:target") that ran an executor. */
  ranTasks: string[];
}

let counter = 0;

/** The builder the test project runs its suites on (vitest.config.mts). */
export const BUILDER: 'buildkit' | 'classic' = process.env.IMAGE_CHAIN_TEST_BUILDER === 'classic' ? 'classic' : 'buildkit';

export class Workspace {
  readonly prefix: string;
  constructor(readonly dir: string, prefix: string) {
    this.prefix = prefix;
  }

  static async create(options: { fixture?: string; prefix?: string } = {}): Promise<Workspace> {
    const dir = mkdtempSync(join(tmpdir(), 'chain-ws-'));
    cpSync(options.fixture ?? FIXTURE, dir, { recursive: true });
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    if (existsSync(join(REPO, '.venv'))) symlinkSync(join(REPO, '.venv'), join(dir, '.venv'));
    cpSync(join(REPO, 'tools'), join(dir, 'tools'), { recursive: true, filter: (src) => !src.includes('/test/') });
    cpSync(join(REPO, 'tsconfig.base.json'), join(dir, 'tsconfig.base.json'));
    cpSync(join(REPO, 'package.json'), join(dir, 'package.json'));
    const prefix = options.prefix ?? `t${process.pid}-${++counter}`;
    const ws = new Workspace(dir, prefix);
    ws.edit('images/versions.json', (text) =>
      text.replaceAll('@@OS_IMAGE@@', inject('fixtureOsImage')).replaceAll('@@PREFIX@@', prefix),
    );
    ws.editJson('images/versions.json', (c) => { c.docker.builder = BUILDER; });
    ws.relock();
    await ws.git('init', '-q', '-b', 'main');
    await ws.git('add', '-A');
    await ws.git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'fixture');
    return ws;
  }

  /** A fresh workspace whose chain has been built once (the starting point of most suites). */
  static async built(options: { fixture?: string; prefix?: string } = {}): Promise<Workspace> {
    const ws = await Workspace.create(options);
    const run = await ws.nx(['run', 'extension:docker-build']);
    if (run.code !== 0) throw new Error(`the fixture chain did not build:\n${run.output}`);
    return ws;
  }

  path(file: string): string {
    return join(this.dir, file);
  }

  read(file: string): string {
    return readFileSync(this.path(file), 'utf8');
  }

  write(file: string, text: string): void {
    writeFileSync(this.path(file), text);
  }

  edit(file: string, change: (text: string) => string): void {
    this.write(file, change(this.read(file)));
  }

  editJson(file: string, change: (json: any) => void): void {
    const json = JSON.parse(this.read(file));
    change(json);
    this.write(file, JSON.stringify(json, null, 2));
  }

  /**
   * What `npm run lock` does, offline: every stage's requirements lock rewritten from the pins.
   * The hashes are placeholders (the fixture Dockerfiles only copy the lock, they install nothing).
   */
  relock(): void {
    const { images } = this.model();
    for (const image of images) {
      const lock = lockOf(image);
      if (!lock) continue;
      const requirements = Object.entries(lock.requirements).map(([name, version]) => ({
        name, version, hashes: [createHash('sha256').update(`${name}==${version}`).digest('hex')],
      }));
      mkdirSync(dirname(this.path(lock.file)), { recursive: true });
      this.write(lock.file, renderLock({ requirements, sourceOnly: [] }, ['fixture lock (placeholder hashes)']));
    }
  }

  /** The chain model of the workspace as it is now. */
  private model() {
    return buildChainModel(this.dir, globSync(STAGE_GLOB, { cwd: this.dir }), loadConfig(this.dir), DEFAULT_CONFIG_FILE);
  }

  exists(file: string): boolean {
    return existsSync(this.path(file));
  }

  async git(...args: string[]) {
    return execa('git', args, { cwd: this.dir });
  }

  async commit(message: string): Promise<void> {
    await this.git('add', '-A');
    await this.git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', message);
  }

  async nx(args: string[], env: Record<string, string> = {}): Promise<NxRun> {
    const result = await execa('node', [NX, ...args, '--output-style=static'], {
      cwd: this.dir,
      reject: false,
      all: true,
      env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', FORCE_COLOR: '0', NO_COLOR: '1', CI: 'true', ...env },
      extendEnv: true,
    });
    const output = String(result.all ?? '');
    const ran: string[] = [];
    const cached: string[] = [];
    const ranTasks: string[] = [];
    // Nx marks each task's header line: "> nx run base:docker-build  [local cache]".
    for (const m of output.matchAll(/^> nx run ([^:\s]+):([^\s]+)(.*)$/gm)) {
      const hit = /\[(local cache|remote cache|existing outputs match the cache)/.test(m[3]);
      (hit ? cached : ran).push(m[1]);
      if (!hit) ranTasks.push(`${m[1]}:${m[2]}`);
    }
    return { code: result.exitCode ?? 1, output, ran, cached, ranTasks };
  }

  record(project: string): any {
    return JSON.parse(this.read(`dist/images/${project}/image.json`));
  }

  /** The tags the versions file gives a project's image now (applied when an nx run ends). */
  tags(project: string): string[] {
    const { images } = this.model();
    const image = images.find((i) => i.name === project);
    if (!image) throw new Error(`no image project ${project}`);
    return image.tags;
  }

  async cleanup(): Promise<void> {
    const images = await execa('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'], { reject: false });
    const mine = String(images.stdout).split('\n').filter((n) => n.startsWith(`${this.prefix}-`));
    if (mine.length) await execa('docker', ['image', 'rm', '-f', ...mine], { reject: false });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The ID of an image or tag in the engine (env: DOCKER_HOST of another one), or null. */
export async function imageId(ref: string, env: Record<string, string> = {}): Promise<string | null> {
  const r = await execa('docker', ['image', 'inspect', '-f', '{{.Id}}', ref], { reject: false, env });
  return r.exitCode === 0 ? String(r.stdout).trim() : null;
}

export async function layers(ref: string, env: Record<string, string> = {}): Promise<string[]> {
  const r = await execa('docker', ['image', 'inspect', '-f', '{{json .RootFS.Layers}}', ref], { env });
  return JSON.parse(String(r.stdout));
}

export const CHAIN = ['os', 'base', 'final', 'extension'];

/**
 * The default line's chain as recorded, in the engine `env` names: each stage's image present
 * under its first tag, built FROM the recorded upstream, its layers extending the upstream's.
 */
export async function expectChainAsRecorded(ws: Workspace, env: Record<string, string> = {}): Promise<void> {
  for (const stage of CHAIN) {
    expect(await imageId(ws.tags(stage)[0], env), `${stage} tag`).toBe(ws.record(stage).image);
  }
  for (const [up, down] of CHAIN.slice(1).map((stage, i) => [CHAIN[i], stage])) {
    expect(ws.record(down).upstream.image, `${down} FROM ${up}`).toBe(ws.record(up).image);
    const upLayers = await layers(ws.record(up).image, env);
    expect((await layers(ws.record(down).image, env)).slice(0, upLayers.length)).toEqual(upLayers);
  }
}
