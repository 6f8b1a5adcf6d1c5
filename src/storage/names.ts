import { BadInputError } from '../errors/index.ts';

/** Whole-name limit: fits every backend's key limit (S3: 1024 bytes, names are ASCII). */
export const MAX_NAME_LENGTH = 1024;
/** Per-segment limit: a segment is a file or directory name on disk (NAME_MAX is 255). */
export const MAX_SEGMENT_LENGTH = 255;

const SEGMENT_CHAR = /^[A-Za-z0-9._-]$/;
const HINT = 'object names are relative, slash-separated segments of A-Z a-z 0-9 . _ -';

/**
 * Returns `name` if it is a valid object name (see ./types.ts), else throws BadInputError
 * BAD_OBJECT_NAME saying which rule it breaks. Backends call this before any I/O, so a
 * hostile name ("../x", "/etc/passwd", NUL) can never reach a path or a URL.
 */
export function validateObjectName(name: string): string {
  const problem = nameProblem(name, false);
  if (problem !== undefined) {
    throw new BadInputError('BAD_OBJECT_NAME', `bad object name ${quote(name)}: ${problem}`, { hint: HINT });
  }
  return name;
}

/**
 * Returns `prefix` if it is a valid list prefix: empty, or an object name that may end
 * with "/". Its last segment may be partial ("data/a" matches "data/ab12"), but it obeys
 * the same segment rules, so "." and ".." are refused even there.
 */
export function validatePrefix(prefix: string): string {
  if (prefix === '') return prefix;
  const problem = nameProblem(prefix, true);
  if (problem !== undefined) {
    throw new BadInputError('BAD_OBJECT_NAME', `bad object name prefix ${quote(prefix)}: ${problem}`, {
      hint: HINT,
    });
  }
  return prefix;
}

/** The non-throwing form, for filtering names found in storage (stray files, foreign keys). */
export function isValidObjectName(name: string): boolean {
  return nameProblem(name, false) === undefined;
}

function nameProblem(name: unknown, allowTrailingSlash: boolean): string | undefined {
  if (typeof name !== 'string') return `it is a ${typeof name}, not a string`;
  if (name === '') return 'it is empty';
  if (name.length > MAX_NAME_LENGTH) {
    return `it is ${name.length} characters long; the limit is ${MAX_NAME_LENGTH}`;
  }
  if (name.startsWith('/')) return 'it is absolute (starts with "/")';
  const segments = name.split('/');
  if (allowTrailingSlash && name.endsWith('/')) segments.pop();
  else if (name.endsWith('/')) return 'it ends with "/"';
  for (const segment of segments) {
    const problem = segmentProblem(segment);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function segmentProblem(segment: string): string | undefined {
  if (segment === '') return 'it has an empty segment ("//")';
  if (segment === '.' || segment === '..') return `it has a "${segment}" segment`;
  if (segment.length > MAX_SEGMENT_LENGTH) {
    return `a segment is ${segment.length} characters long; the limit is ${MAX_SEGMENT_LENGTH}`;
  }
  for (const char of segment) {
    if (!SEGMENT_CHAR.test(char)) return `it contains ${describeChar(char)}`;
  }
  return undefined;
}

function describeChar(char: string): string {
  if (char === '\0') return 'a NUL character';
  const code = char.codePointAt(0)!;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return code < 0x20 || code === 0x7f ? `a control character (${hex})` : `${JSON.stringify(char)} (${hex})`;
}

/** JSON quoting escapes NUL and control characters; long names are cut for readability. */
function quote(name: unknown): string {
  if (typeof name !== 'string') return String(name);
  if (name.length <= 80) return JSON.stringify(name);
  return `${JSON.stringify(`${name.slice(0, 60)}…`)} (${name.length} characters)`;
}
