import { BadInputError } from '../../errors/index.ts';

// Checks of untrusted request bodies, shared by the people and operations services: every
// refusal names the field (BAD_FIELD) and nothing half-valid goes further.

export function bad(field: string, rule: string): BadInputError {
  return new BadInputError('BAD_FIELD', `${field}: ${rule}`);
}

/** The body as an object with only the allowed fields; `shape` is shown when it is not one. */
export function fields(body: unknown, allowed: readonly string[], shape: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadInputError('BAD_BODY', `send a JSON object ${shape}`);
  }
  const input = body as Record<string, unknown>;
  const unknown = Object.keys(input).find((k) => !allowed.includes(k));
  if (unknown !== undefined) throw bad(unknown, 'unknown field');
  return input;
}

/** A string of 1..max characters without control characters. */
export function plainText(field: string, value: unknown, max: number): string {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > max ||
    /[\u0000-\u001f\u007f]/.test(value)
  ) {
    throw bad(field, `1 to ${max} characters, without control characters`);
  }
  return value;
}

export function wholeNumber(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw bad(field, `a whole number from ${min} to ${max}`);
  }
  return value;
}

/** Far longer than any ISO 8601 time ('2025-01-01T10:00:00.123456789+01:00' is 35). */
const MAX_ISO_TIME = 64;

/** An ISO 8601 time with a zone ('2025-01-01T10:00:00Z'), as milliseconds. */
export function isoTime(field: string, value: unknown): number {
  // Length first: the pattern backtracks quadratically over a long run of "T"s.
  const ms =
    typeof value === 'string' && value.length <= MAX_ISO_TIME && /T.*(Z|[+-]\d\d:\d\d)$/.test(value)
      ? Date.parse(value)
      : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0)
    throw bad(field, "an ISO 8601 time with a zone, e.g. '2025-01-01T10:00:00Z'");
  return ms;
}

/** Cuts a string to max characters, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
