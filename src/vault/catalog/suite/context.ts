import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { type ErrorKind, isOffsiteError } from '../../../errors/index.ts';
import type { Catalog, ServerRow, VaultRow } from '../types.ts';

/** Lets the case groups read the catalog of the test that is running. */
export interface Context {
  readonly catalog: Catalog;
}

export const T0 = Date.UTC(2025, 0, 1);
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A distinct, well-formed SHA-256 fingerprint per label. */
export function fingerprint(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}

export function makeVault(c: Catalog, name = 'main'): Promise<VaultRow> {
  return c.createVault({ name, region: 'local', createdAt: T0 });
}

export function makeServer(c: Catalog, vaultId: string, name = 'web-1'): Promise<ServerRow> {
  return c.registerServer({
    vaultId,
    name,
    certFingerprint: fingerprint(`${vaultId}/${name}`),
    certNotAfter: T0 + 365 * DAY,
    via: 'credentials',
    registeredAt: T0,
  });
}

/** Asserts that the promise rejects with an Offsite error of this kind and code. */
export async function rejectsWith(promise: Promise<unknown>, kind: ErrorKind, code: string): Promise<void> {
  await assert.rejects(promise, (err) => {
    assert.ok(isOffsiteError(err), `expected an OffsiteError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.kind, kind, `${code} should be a ${kind} error`);
    return true;
  });
}
