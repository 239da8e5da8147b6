import { describe, expect, it } from 'vitest';
import { buildKitBuildArgs, builtImageId } from './buildkit';
import { upstreamTag } from '../scaffold-tags';

const ID = `sha256:${'a'.repeat(64)}`;

describe('buildKitBuildArgs', () => {
  const options = { dockerfile: '/w/ctx/Dockerfile', context: '/w/ctx', upstream: ID, buildArgs: { SKLEARN_VERSION: '1.4.2' }, network: 'host', platform: 'linux/amd64' };

  it('builds untagged, with no attestations, FROM the upstream\'s own tag, its digest in the metadata file', () => {
    const from = upstreamTag(ID);
    expect(from).toBe(`image-chain-upstream:${'a'.repeat(64)}`);
    expect(buildKitBuildArgs(options, from, '/w/meta.json')).toEqual([
      'buildx', 'build', '--progress', 'plain', '--provenance=false', '--sbom=false', '--metadata-file', '/w/meta.json', '-f', '/w/ctx/Dockerfile',
      '--network', 'host', '--platform', 'linux/amd64', '--build-arg', `UPSTREAM=${from}`, '--build-arg', 'SKLEARN_VERSION=1.4.2', '/w/ctx',
    ]);
  });

  it('secrets by id and file; the default network and platform left to the engine', () => {
    const args = buildKitBuildArgs({ ...options, network: 'default', platform: undefined, secrets: { 'build-ca': '/w/build-ca.pem' } }, 'x:y', '/w/m.json');
    expect(args).toContain('id=build-ca,src=/w/build-ca.pem');
    expect(args[args.indexOf('id=build-ca,src=/w/build-ca.pem') - 1]).toBe('--secret');
    expect(args).not.toContain('--network');
    expect(args).not.toContain('--platform');
    expect(args).not.toContain('-t');
  });
});

describe('builtImageId', () => {
  // As buildx 0.13.1 wrote them on Docker 26.1.5: the overlay2 store, then the containerd store.
  it('the image digest, which is the image ID in either store', () => {
    const config = 'sha256:14c1768a5256cb6d3aa3e245a2db6bb3785f91983ea1db9d6a8b34ec11b1ad75';
    expect(builtImageId({ 'buildx.build.ref': 'default/default/t5', 'containerimage.config.digest': config, 'containerimage.digest': config })).toBe(config);
    const manifest = 'sha256:8c3e89d713d994d7309e46cfe14b70d5b9e5e305e85d5034f4cde3496b5714d8';
    expect(builtImageId({
      'containerimage.config.digest': 'sha256:3182942be9671dcf2314dff0ce8d72ae866e9dc794463bc741e4fa9f4d91287b',
      'containerimage.digest': manifest,
      'image.name': `moby-dangling@${manifest}`,
    })).toBe(manifest);
  });

  it('no image in the engine\'s store (a builder that does not load): null', () => {
    expect(builtImageId({ 'buildx.build.ref': 'container/container0/x' })).toBeNull();
  });
});
