// No host data in any image: extra CA certificates reach the RUN steps that mount them as a build
// secret, and nothing of them, nor of a secret planted in the host's environment and workspace,
// is in any layer, history entry, config or record. The classic builder cannot take a secret
// without leaving it in the image, so it refuses a build that needs one and says why.
import { execa } from 'execa';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILDER, CHAIN, Workspace } from '../workspace';

const CA_MARKER = 'image-chain-test-extra-ca-7f3e';
const SECRET_MARKER = 'image-chain-planted-secret-91c2';
// Looks like a certificate to with-build-ca; the marker is what must never reach an image.
const CA_PEM = `-----BEGIN CERTIFICATE-----\n${Buffer.from(CA_MARKER.repeat(4)).toString('base64')}\n-----END CERTIFICATE-----\n`;
// The certificate as text, its PEM body, and the PEM base64-encoded (as a build arg carried it).
const CA_FORMS = [CA_MARKER, Buffer.from(CA_MARKER.repeat(4)).toString('base64').slice(0, 24), Buffer.from(CA_PEM).toString('base64').slice(0, 40)];

/** Every byte the engine holds of an image (layers unpacked, config, manifest), as text. */
async function imageBytes(image: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'saved-'));
  try {
    await execa('sh', ['-c', `docker image save ${image} | tar -x -C ${dir}`]);
    const texts: string[] = [];
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const file = join(d, name);
        if (statSync(file).isDirectory()) walk(file);
        else {
          const bytes = readFileSync(file);
          texts.push((bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('latin1'));
        }
      }
    };
    walk(dir);
    const history = await execa('docker', ['image', 'history', '--no-trunc', image]);
    const inspect = await execa('docker', ['image', 'inspect', image]);
    return [...texts, history.stdout, inspect.stdout].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe(`no host data in any image (${BUILDER} builder)`, () => {
  let ws: Workspace;
  let caFile: string;
  const env = () => ({ IMAGE_CHAIN_BUILD_CA: caFile, AWS_SECRET_ACCESS_KEY: SECRET_MARKER });

  beforeAll(async () => {
    ws = await Workspace.create();
    caFile = join(ws.dir, '..', `${ws.prefix}-extra-ca.pem`);
    writeFileSync(caFile, CA_PEM);
    // A step that needs the certificates proves they arrive; the planted secret sits in the
    // workspace (ignored by the stage's .dockerignore) and in the environment.
    ws.edit('images/base/Dockerfile', (t) => `${t}RUN --mount=type=secret,id=build-ca grep -q "BEGIN CERTIFICATE" /run/secrets/build-ca\n`);
    ws.write('images/base/notes.md', `${SECRET_MARKER}\n`);
    ws.write('.env', `AWS_SECRET_ACCESS_KEY=${SECRET_MARKER}\n`);
    await ws.commit('a stage that mounts the extra CA certificates');
  });
  afterAll(async () => {
    rmSync(caFile, { force: true });
    await ws?.cleanup();
  });

  if (BUILDER === 'buildkit') {
    it('the certificates reach the step that mounts them; no image, history, config or record holds them or the planted secret', async () => {
      const run = await ws.nx(['run', 'extension:docker-build'], env());
      expect(run.code, run.output).toBe(0);
      for (const stage of CHAIN) {
        const bytes = await imageBytes(ws.record(stage).image);
        for (const form of CA_FORMS) expect(bytes.includes(form), `${stage}: the extra CA (${form.slice(0, 12)}…)`).toBe(false);
        expect(bytes.includes(SECRET_MARKER), `${stage}: the planted secret`).toBe(false);
        const record = ws.read(`dist/images/${stage}/image.json`);
        for (const form of CA_FORMS) expect(record).not.toContain(form);
        expect(record).not.toContain(SECRET_MARKER);
      }
    });
  } else {
    it('a build that needs the certificates is refused, saying why and what to do; nothing is recorded', async () => {
      const run = await ws.nx(['run', 'extension:docker-build'], env());
      expect(run.code).not.toBe(0);
      expect(run.output).toMatch(/✖ base: the image build failed/);
      expect(run.output).toMatch(/the classic builder cannot give a build secrets \(build-ca\) without leaving them in the image/);
      expect(run.output).toMatch(/IMAGE_CHAIN_BUILD_CA=none/);
      expect(ws.exists('dist/images/base/image.json')).toBe(false);
    });

    it('without them it builds, the secret mount dropped; no image holds the planted secret', async () => {
      ws.edit('images/base/Dockerfile', (t) => t.replace('grep -q "BEGIN CERTIFICATE" /run/secrets/build-ca', 'test ! -e /run/secrets/build-ca'));
      const run = await ws.nx(['run', 'extension:docker-build'], { ...env(), IMAGE_CHAIN_BUILD_CA: 'none' });
      expect(run.code, run.output).toBe(0);
      for (const stage of CHAIN) expect((await imageBytes(ws.record(stage).image)).includes(SECRET_MARKER), stage).toBe(false);
    });
  }
});
