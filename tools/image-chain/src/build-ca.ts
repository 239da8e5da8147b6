// Extra CA certificates of the host, for builds whose RUN steps fetch over HTTPS behind a
// TLS-intercepting proxy. They reach a build as a build secret, which no layer, history entry
// or config keeps: a certificate names the host's network, so it stays out of every image.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The build secret id through which RUN steps may mount extra CA certificates (with-build-ca reads it). */
export const BUILD_CA_SECRET = 'build-ca';
const HOST_EXTRA_CAS = '/usr/local/share/ca-certificates';

/**
 * Extra CA certificates the host trusts (e.g. a TLS-intercepting egress proxy), PEM, for builds
 * whose RUN steps fetch over HTTPS. IMAGE_CHAIN_BUILD_CA names a PEM file, or "none".
 * Machine-specific, so never part of a cache key.
 */
export function hostExtraCas(): string | null {
  const setting = process.env.IMAGE_CHAIN_BUILD_CA;
  if (setting === 'none') return null;
  let pem = '';
  if (setting) pem = readFileSync(setting, 'utf8');
  else if (existsSync(HOST_EXTRA_CAS)) {
    for (const f of readdirSync(HOST_EXTRA_CAS).filter((f) => f.endsWith('.crt')).sort()) pem += readFileSync(join(HOST_EXTRA_CAS, f), 'utf8');
  }
  return pem || null;
}
