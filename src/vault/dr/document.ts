import { parse as parseYaml, YAMLParseError } from 'yaml';
import { BadInputError } from '../../errors/index.ts';
import { NAME_PATTERN, NAME_RULE, SITE_NAME_PATTERN, SITE_NAME_RULE } from './names.ts';

// What the YAML documents of disaster recovery (workload files, plan files) share: every
// broken rule is collected with the path to its field and reported at once, and nothing
// is applied while one remains.

/** Every problem of a document, one "path: what is wrong" line each. */
export class DocumentError extends BadInputError {
  readonly problems: readonly string[];
  constructor(code: string, what: string, problems: readonly string[]) {
    const count = problems.length === 1 ? 'a problem' : `${problems.length} problems`;
    super(code, `the ${what} has ${count}:\n  ${problems.join('\n  ')}`, {
      hint: 'fix each field named above; nothing was applied',
    });
    this.problems = problems;
  }
}

export type Fields = Record<string, unknown>;

/** Collects problems while a document is walked. */
export class FieldChecker {
  readonly problems: string[] = [];
  readonly #maxText: number;

  constructor(maxText: number) {
    this.#maxText = maxText;
  }

  fail(path: string, rule: string): undefined {
    this.problems.push(`${path}: ${rule}`);
    return undefined;
  }

  object(path: string, value: unknown, allowed: readonly string[]): Fields | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.fail(path, `must be a mapping with the fields ${allowed.join(', ')}`);
    }
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key))
        this.fail(`${path}.${key}`, `unknown field; allowed: ${allowed.join(', ')}`);
    }
    return value as Fields;
  }

  text(path: string, value: unknown, max = this.#maxText): string | undefined {
    if (typeof value !== 'string' || value.trim() === '' || value.length > max || value.includes('\0')) {
      return this.fail(path, `must be text of 1 to ${max} characters`);
    }
    return value;
  }

  name(path: string, value: unknown, what: string): string | undefined {
    if (typeof value !== 'string' || !NAME_PATTERN.test(value))
      return this.fail(path, `${what} ${NAME_RULE}`);
    return value;
  }

  siteName(path: string, value: unknown): string | undefined {
    if (typeof value !== 'string' || !SITE_NAME_PATTERN.test(value)) {
      return this.fail(path, `a site name is ${SITE_NAME_RULE}`);
    }
    return value;
  }
}

/** YAML text as a value; a syntax error is one problem naming its line. */
export function readYaml(text: string, refuse: (problems: string[]) => Error): unknown {
  try {
    return parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const line = err.linePos?.[0]?.line;
      throw refuse([`${line === undefined ? '(file)' : `line ${line}`}: ${err.message.split('\n')[0]}`]);
    }
    throw err;
  }
}
