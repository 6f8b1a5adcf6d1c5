import { randomUUID } from 'node:crypto';
import { BadInputError } from '../../errors/index.ts';
import type { JsonObject, JsonValue } from './types.ts';

// Field checks every backend runs before writing, so bad input is refused with the same
// code (BAD_FIELD) and message whatever the database, and nothing half-valid is stored.
// The service validates people's input first; these are the catalog's own guard rails.

const MAX_NAME = 200;
const MAX_TEXT = 4000;
const MAX_SOFT_DELETE_DAYS = 3650;
const FINGERPRINT = /^[0-9a-f]{64}$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

function bad(field: string, rule: string): BadInputError {
  return new BadInputError('BAD_FIELD', `${field}: ${rule}`);
}

/** A non-empty string without NUL, at most `max` characters. */
export function text(field: string, value: unknown, max = MAX_NAME): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max || value.includes('\0')) {
    throw bad(field, `must be 1 to ${max} characters, without NUL`);
  }
  return value;
}

export function longText(field: string, value: unknown): string {
  return text(field, value, MAX_TEXT);
}

export function optionalLongText(field: string, value: unknown): string | null {
  return value === null ? null : longText(field, value);
}

/** Times, sizes and counts: whole numbers from 0 that a double holds exactly. */
export function whole(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw bad(field, 'must be a whole number from 0');
  }
  return value;
}

export function optionalWhole(field: string, value: unknown): number | null {
  return value === null ? null : whole(field, value);
}

export function quota(value: unknown): number | null {
  if (value === null) return null;
  if (whole('quotaBytes', value) === 0) throw bad('quotaBytes', 'must be positive, or null for no quota');
  return value as number;
}

export function softDeleteDays(value: unknown): number {
  if (whole('softDeleteDays', value) > MAX_SOFT_DELETE_DAYS) {
    throw bad('softDeleteDays', `must be at most ${MAX_SOFT_DELETE_DAYS}`);
  }
  return value as number;
}

export function boolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw bad(field, 'must be true or false');
  return value;
}

export function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw bad(field, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** SHA-256 in the form src/pki prints it: 64 lowercase hex digits. */
export function fingerprint(field: string, value: unknown): string {
  if (typeof value !== 'string' || !FINGERPRINT.test(value)) {
    throw bad(field, 'must be a SHA-256 fingerprint (64 lowercase hex digits)');
  }
  return value;
}

/** A real calendar day written 'YYYY-MM-DD'. */
export function day(field: string, value: unknown): string {
  const match = typeof value === 'string' ? DAY.exec(value) : null;
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null;
  if (!date || date.toISOString().slice(0, 10) !== value) throw bad(field, "must be a day 'YYYY-MM-DD'");
  return value as string;
}

/** Returns the JSON text to store. */
export function jsonObject(field: string, value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad(field, 'must be a JSON object');
  }
  return jsonText(field, value);
}

export function optionalJsonObject(field: string, value: unknown): string | null {
  return value === null ? null : jsonObject(field, value);
}

export function jsonArray(field: string, value: unknown): string {
  if (!Array.isArray(value)) throw bad(field, 'must be a JSON array');
  return jsonText(field, value);
}

function jsonText(field: string, value: object): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    throw new BadInputError('BAD_FIELD', `${field}: cannot be written as JSON`, { cause: err });
  }
}

export function parseObject(value: string): JsonObject {
  return JSON.parse(value) as JsonObject;
}

export function parseArray(value: string): JsonValue[] {
  return JSON.parse(value) as JsonValue[];
}

export function limit(value: unknown): number {
  if (whole('limit', value) === 0) throw bad('limit', 'must be at least 1');
  return value as number;
}

/** Refuses an end before its start, e.g. expiresAt before issuedAt. */
export function after(field: string, value: number, start: number): number {
  if (value <= start) throw bad(field, 'must be later than the start');
  return value;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A given id (rebuild-catalog restores rows under their old ids) or a fresh one. */
export function idOrNew(value: unknown): string {
  if (value === undefined) return randomUUID();
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw new BadInputError('BAD_FIELD', 'id: a lowercase UUID');
  }
  return value;
}
