import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DOCKER_MANIFEST, MAX_MANIFEST_SIZE, OCI_INDEX, OCI_MANIFEST, parseManifest } from './manifest.ts';
import { RegistryError } from './errors.ts';

const d = (c: string): string => `sha256:${c.repeat(64)}`;
const buf = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const code = (c: string) => (e: unknown) => e instanceof RegistryError && e.code === c;

const image = {
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d('1'), size: 2 },
  layers: [
    { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: d('2'), size: 10 },
    { mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', digest: d('3'), size: 10, urls: ['https://example.invalid/l'] },
  ],
};

test('image manifests name their config and layers; external layers are not required', () => {
  const m = parseManifest(buf(image), OCI_MANIFEST);
  assert.equal(m.mediaType, OCI_MANIFEST);
  assert.deepEqual(m.blobs, [d('1'), d('2')]);
  assert.deepEqual(m.allBlobs, [d('1'), d('2'), d('3')]);
  assert.equal(m.artifactType, 'application/vnd.oci.image.config.v1+json');
});

test('indexes name child manifests; subject and artifactType are read', () => {
  const m = parseManifest(buf({ schemaVersion: 2, mediaType: OCI_INDEX, artifactType: 'x/y', manifests: [{ mediaType: OCI_MANIFEST, digest: d('4'), size: 5 }], subject: { mediaType: OCI_MANIFEST, digest: d('5'), size: 1 } }), '');
  assert.deepEqual(m.manifests, [d('4')]);
  assert.equal(m.subject, d('5'));
  assert.equal(m.artifactType, 'x/y');
});

test('the media type comes from Content-Type or the document and both must agree', () => {
  const { mediaType: _, ...bare } = image;
  assert.equal(parseManifest(buf(bare), DOCKER_MANIFEST).mediaType, DOCKER_MANIFEST);
  assert.equal(parseManifest(buf(bare), '').mediaType, OCI_MANIFEST);
  assert.throws(() => parseManifest(buf(image), DOCKER_MANIFEST), code('MANIFEST_INVALID'));
  assert.throws(() => parseManifest(buf(image), 'application/vnd.docker.distribution.manifest.v1+prettyjws'), code('MANIFEST_INVALID'));
});

test('malformed manifests are MANIFEST_INVALID, oversize ones SIZE_INVALID', () => {
  assert.throws(() => parseManifest(Buffer.from('{'), OCI_MANIFEST), code('MANIFEST_INVALID'));
  assert.throws(() => parseManifest(buf([]), OCI_MANIFEST), code('MANIFEST_INVALID'));
  assert.throws(() => parseManifest(buf({ ...image, schemaVersion: 1 }), OCI_MANIFEST), code('MANIFEST_INVALID'));
  assert.throws(() => parseManifest(buf({ ...image, layers: [{ mediaType: 'x', digest: 'sha256:../../x', size: 1 }] }), OCI_MANIFEST), code('MANIFEST_INVALID'));
  assert.throws(() => parseManifest(buf({ ...image, config: { mediaType: 'x', digest: d('1'), size: -1 } }), OCI_MANIFEST), code('MANIFEST_INVALID'));
  assert.throws(() => parseManifest(Buffer.alloc(MAX_MANIFEST_SIZE + 1, 0x20), OCI_MANIFEST), code('SIZE_INVALID'));
});
