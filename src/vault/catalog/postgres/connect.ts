import pg from 'pg';
import { BadInputError } from '../../../errors/index.ts';
import type { Target } from './errors.ts';

// The connection pool of a catalog, from its URL
// (postgres://user:password@host:port/database?sslmode=...; anything libpq-style that pg
// understands). Every session starts SERIALIZABLE, so even single statements outside
// transactions take part in PostgreSQL's conflict detection.

export interface PoolOptions {
  /** Connections this instance keeps at most; default 10. */
  maxConnections?: number;
  /** How long to wait for a connection before failing; default 10 s. */
  connectTimeoutMs?: number;
}

const SERIALIZABLE = '-c default_transaction_isolation=serializable';

/** BIGINT (times, sizes, counts) as numbers; a value a double cannot hold stays text, which columns.ts refuses. */
const TYPES = new pg.TypeOverrides();
TYPES.setTypeParser(pg.types.builtins.INT8, (text: string) => {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : text;
});

function badUrl(why: string): BadInputError {
  return new BadInputError('BAD_CATALOG_URL', `the catalog URL ${why}`, {
    hint: 'write it as postgres://user:password@host:port/database',
  });
}

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw badUrl('has a malformed %-escape');
  }
}

/** Checks the URL; what pg connects with and what messages may say. Never echoes the URL (it holds the password). */
export function parseCatalogUrl(url: string): { connectionString: string; options: string; target: Target } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badUrl('is not a URL');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw badUrl(`must start with postgres:// or postgresql://, not ${parsed.protocol}//`);
  }
  const user = decoded(parsed.username);
  const host = decoded(parsed.hostname) || parsed.searchParams.get('host') || 'localhost';
  const database = decoded(parsed.pathname.slice(1)) || user;
  // A URL's own `options` would replace ours (pg lets the URL win), so they are merged.
  const own = parsed.searchParams.get('options');
  parsed.searchParams.delete('options');
  return {
    connectionString: parsed.toString(),
    options: own ? `${own} ${SERIALIZABLE}` : SERIALIZABLE,
    target: { where: `${host}:${parsed.port || 5432}/${database}`, password: decoded(parsed.password) },
  };
}

export function createPool(url: string, options: PoolOptions): { pool: pg.Pool; target: Target } {
  const { connectionString, options: startup, target } = parseCatalogUrl(url);
  const pool = new pg.Pool({
    connectionString,
    options: startup,
    types: TYPES,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'offsite',
  });
  // An idle connection that dies (server restart) is dropped by the pool; without a
  // listener the event would crash the process. Calls in flight get their own error.
  pool.on('error', () => {});
  return { pool, target };
}
