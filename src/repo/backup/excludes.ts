import { BadInputError } from '../../errors/index.ts';

/**
 * Exclude patterns, restic-style: a pattern without "/" matches any single name at any
 * depth ("*.log", "node_modules"); a pattern with "/" matches the absolute path from the
 * start, where "**" spans directories ("/home/*\/.cache", "/var/**\/*.tmp"). A match on
 * a directory skips everything below it.
 */
export class Excluder {
  readonly #byName: RegExp[] = [];
  readonly #byPath: RegExp[] = [];

  constructor(patterns: readonly string[]) {
    for (const raw of patterns) {
      const pattern = raw.trim();
      if (pattern === '' || pattern.startsWith('#')) continue;
      // "node_modules/" means the folder node_modules at any depth, like "node_modules".
      const stripped = pattern.length > 1 ? pattern.replace(/\/+$/, '') : pattern;
      (stripped.includes('/') ? this.#byPath : this.#byName).push(globToRegExp(stripped));
    }
  }

  get empty(): boolean {
    return this.#byName.length === 0 && this.#byPath.length === 0;
  }

  excludes(absolutePath: string, name: string): boolean {
    return this.#byName.some((r) => r.test(name)) || this.#byPath.some((r) => r.test(absolutePath));
  }
}

export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const [cls, end] = bracketClass(glob, i);
      out += cls;
      i = end;
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 's');
}

/**
 * "[abc]", "[a-z]", "[!abc]": a class within one path segment. A "]" right after "[" or
 * "[!" is a member, as in shell globs. Returns the RegExp text and the index of the "]".
 */
function bracketClass(glob: string, open: number): [string, number] {
  let i = open + 1;
  const negate = glob[i] === '!';
  if (negate) i++;
  let body = '';
  if (glob[i] === ']') {
    body += '\\]';
    i++;
  }
  for (; i < glob.length && glob[i] !== ']'; i++) {
    const c = glob[i]!;
    body += c === '\\' || c === '^' || c === '[' ? `\\${c}` : c;
  }
  if (i >= glob.length || body === '')
    throw new BadInputError('BAD_PATTERN', `exclude pattern "${glob}" has an unclosed "["`);
  // A class never matches "/": patterns do not cross folders except through "**".
  return [negate ? `[^/${body}]` : `[${body}]`, i];
}
