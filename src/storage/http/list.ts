import { isValidObjectName } from '../names.ts';
import type { ListedObject } from '../types.ts';
import { badAnswer } from './errors.ts';
import type { ListPage } from './protocol.ts';

// One page of a listing, checked: the engine acts on these names, so a malformed page
// (or a cursor that does not move forward, which would loop forever) is refused.

function isListed(value: unknown): value is ListedObject {
  if (typeof value !== 'object' || value === null) return false;
  const { name, size } = value as Record<string, unknown>;
  return (
    typeof name === 'string' && isValidObjectName(name) && Number.isSafeInteger(size) && (size as number) >= 0
  );
}

export function listPage(body: Buffer, after: string, location: string): ListPage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw badAnswer(location, 'a listing that is not JSON');
  }
  const { objects, next } = (parsed ?? {}) as Record<string, unknown>;
  if (!Array.isArray(objects) || !objects.every(isListed)) throw badAnswer(location, 'a malformed listing');
  if (next !== null && (typeof next !== 'string' || next <= after)) {
    throw badAnswer(location, 'a listing cursor that does not move forward');
  }
  return { objects: objects.map(({ name, size }) => ({ name, size })), next };
}
