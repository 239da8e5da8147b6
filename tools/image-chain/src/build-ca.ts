// Extra CA certificates of the host, for builds whose RUN steps fetch over HTTPS behind a
// TLS-intercepting proxy.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The build arg through which Dockerfiles may receive extra CA certificates for pip. */
export const BUILD_CA_ARG = 'BUILD_CA_CERT_B64';
const HOST_EXTRA_CAS = '/usr/local/share/ca-certificates';

/**
 * Extra CA certificates the host trusts (e.g. a TLS-intercepting egress proxy), base64 PEM, for
 * builds whose RUN steps fetch over HTTPS. IMAGE_CHAIN_BUILD_CA names a PEM file, or "none".
 * Machine-specific, so never part of a cache key; a public certificate, never a secret.
 */
export function hostExtraCas(): string | null {
  const setting = process.env.IMAGE_CHAIN_BUILD_CA;
  if (setting === 'none') return null;
  let pem = '';
  if (setting) pem = readFileSync(setting, 'utf8');
  else if (existsSync(HOST_EXTRA_CAS)) {
    for (const f of readdirSync(HOST_EXTRA_CAS).filter((f) => f.endsWith('.crt')).sort()) pem += readFileSync(join(HOST_EXTRA_CAS, f), 'utf8');
  }
  return pem ? Buffer.from(pem).toString('base64') : null;
}
