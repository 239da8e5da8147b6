// Generated blocks of the README: the text between "<!-- <name>:begin ... -->" and "<!-- <name>:end -->".
import { readFileSync, writeFileSync } from 'node:fs';

const begin = (name: string) => new RegExp(`<!-- ${name}:begin[^>]*-->`);
const end = (name: string) => `<!-- ${name}:end -->`;

/** The block's current text, trimmed; null where the README lacks its markers. */
export function readmeBlock(readme: string, name: string): string | null {
  const start = readme.match(begin(name));
  const stop = readme.indexOf(end(name));
  return start?.index === undefined || stop < 0 ? null : readme.slice(start.index + start[0].length, stop).trim();
}

/** The README with the block replaced by `body`. */
export function withReadmeBlock(readme: string, name: string, body: string): string {
  const start = readme.match(begin(name));
  const stop = readme.indexOf(end(name));
  if (start?.index === undefined || stop < 0) throw new Error(`README.md has no "<!-- ${name}:begin -->" ... "${end(name)}" markers`);
  return `${readme.slice(0, start.index + start[0].length)}\n${body}\n${readme.slice(stop)}`;
}

/** A generator's command line: with --write, puts `body` in the README's block; else exits 1 if the block differs. */
export function writeOrCheck(readmePath: string, name: string, body: string, regenerate: string): void {
  const readme = readFileSync(readmePath, 'utf8');
  if (process.argv.includes('--write')) {
    writeFileSync(readmePath, withReadmeBlock(readme, name, body));
  } else if (readmeBlock(readme, name) !== body) {
    console.error(`README.md block "${name}" is out of date: run ${regenerate}`);
    process.exit(1);
  }
}
