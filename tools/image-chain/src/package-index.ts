// The files the package index has for one exact version, with their sha256, read from the
// index's JSON API (PEP 691: the /simple/ pages pip itself downloads from, in JSON). Hashes are
// taken from there, not computed from a download, so a lock costs one request per project.
import { normalizeName } from './config';

export const PYPI_SIMPLE = 'https://pypi.org/simple';

interface SimpleFile {
  filename: string;
  hashes: Record<string, string>;
}

export interface VersionFiles {
  /** sha256 of every wheel and source archive of the version. */
  hashes: string[];
  /** Whether any of them is a wheel; if not, pip has to build it from source. */
  hasWheel: boolean;
}

const SDIST = /^(.+)-([^-]+)\.(tar\.gz|zip|tar\.bz2|tar\.xz)$/;

/** The project and version a wheel or source archive file name is for; null for other files (.exe, .egg). */
export function fileVersion(filename: string): { name: string; version: string; wheel: boolean } | null {
  if (filename.endsWith('.whl')) {
    const [name, version] = filename.slice(0, -'.whl'.length).split('-');
    return version ? { name: normalizeName(name), version, wheel: true } : null;
  }
  const m = SDIST.exec(filename);
  return m ? { name: normalizeName(m[1]), version: m[2], wheel: false } : null;
}

export class PackageIndex {
  private readonly projects = new Map<string, Promise<SimpleFile[]>>();

  constructor(private readonly url = PYPI_SIMPLE) {}

  /** One request per project, however many versions of it are asked for. */
  private files(name: string): Promise<SimpleFile[]> {
    const key = normalizeName(name);
    let files = this.projects.get(key);
    if (!files) {
      files = (async () => {
        const url = `${this.url}/${key}/`;
        const res = await fetch(url, { headers: { Accept: 'application/vnd.pypi.simple.v1+json' } }).catch((e: Error) => {
          throw new Error(`cannot reach ${url} (${(e.cause as Error | undefined)?.message ?? e.message}); the lock needs PyPI's hashes`);
        });
        if (!res.ok) throw new Error(`${url} answered ${res.status} ${res.statusText}${res.status === 404 ? `: is "${name}" the project's name on PyPI?` : ''}`);
        return ((await res.json()) as { files: SimpleFile[] }).files;
      })();
      this.projects.set(key, files);
    }
    return files;
  }

  async versionFiles(name: string, version: string): Promise<VersionFiles> {
    const matching = (await this.files(name)).filter((f) => {
      const parsed = fileVersion(f.filename);
      return parsed && parsed.name === normalizeName(name) && parsed.version.toLowerCase() === version.toLowerCase();
    });
    if (matching.length === 0) throw new Error(`${this.url}/${normalizeName(name)}/ has no file of ${name} ${version}: is the version right?`);
    const hashes = matching.map((f) => {
      const sha256 = f.hashes.sha256;
      if (!/^[0-9a-f]{64}$/.test(sha256 ?? '')) throw new Error(`${this.url}/${normalizeName(name)}/: ${f.filename} has no sha256 hash`);
      return sha256;
    });
    return { hashes, hasWheel: matching.some((f) => f.filename.endsWith('.whl')) };
  }
}
