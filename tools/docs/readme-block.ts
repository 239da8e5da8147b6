// Generated blocks of the README: the text between "<!-- <name>:begin ... -->" and "<!-- <name>:end -->".

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
