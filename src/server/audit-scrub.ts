import type { JsonValue } from '../vault/catalog/index.ts';

// What an audit entry may hold of a request's state or answer: never a secret. Keys that
// name secrets (tokens, passwords, keys, credentials, codes, certificates and their
// hashes) are dropped at any depth, PEM text is omitted whatever its key, URLs keep their origin only (a webhook URL can carry
// a secret in its path), long strings are cut and a huge value is replaced by a marker.

const SECRET_KEY =
  /secret|password|passphrase|token$|^token|hash|pem$|privatekey|publickey|^key$|sealed|credential|^code$|signature|^csr$|^der$/i;
/** Keys that look like secrets but are not: identities and descriptions. */
const SAFE_KEY = /^(tokenId|tokenName|tokens|revokedTokens|fingerprint256?|certFingerprint)$/;
const MAX_STRING = 1000;
const MAX_JSON = 64 * 1024;
const MAX_DEPTH = 8;

function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(not a URL)';
  }
}

function clean(value: unknown, key: string, depth: number): JsonValue | undefined {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') {
    if (/url$/i.test(key)) return origin(value);
    // PEM under any name: a private key must never pass, and a certificate is only bulk.
    if (value.includes('-----BEGIN')) return '(PEM omitted)';
    return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  }
  if (typeof value !== 'object' || depth > MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    return value.map((v) => clean(v, key, depth + 1)).filter((v): v is JsonValue => v !== undefined);
  }
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_KEY.test(k) && !SAFE_KEY.test(k)) continue;
    const kept = clean(v, k, depth + 1);
    if (kept !== undefined) out[k] = kept;
  }
  return out;
}

/** The value without any secret, as JSON; null for nothing. */
export function scrubbed(value: unknown): JsonValue | null {
  if (value === undefined) return null;
  const kept = clean(value, '', 0) ?? null;
  const size = JSON.stringify(kept).length;
  return size > MAX_JSON ? { truncated: true, bytes: size } : kept;
}
