import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { AuthError, BadInputError, NotFoundError, TransientError } from '../../errors/index.ts';
import { type CommandSource, commandSource, exitText, lastLine } from './command.ts';

// PostgreSQL as a backup source: `pg_dump --format=custom` streams one database, read
// in one transaction snapshot (application-consistent), into a snapshot file. The URL's
// password is a secret: it reaches pg_dump / pg_restore only through PGPASSWORD in their
// environment, never their argv (which `ps` shows to every user), and is scrubbed from
// anything they print.

export interface PostgresTarget {
  /** The URL without its password: what the tools get as --dbname. */
  connection: string;
  password: string | undefined;
  database: string;
  /** host:port (or the socket) for messages. */
  server: string;
  /** The URL with the password masked, for messages. */
  display: string;
}

function badUrl(why: string): BadInputError {
  return new BadInputError('BAD_POSTGRES_URL', `not a usable PostgreSQL URL: ${why}`, {
    hint: 'write postgresql://USER:PASSWORD@HOST:PORT/DATABASE (percent-encode special characters)',
  });
}

/** Splits a postgresql:// URL into what the tools get and the password they must not. */
export function parsePostgresUrl(text: string): PostgresTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badUrl('it does not parse as a URL');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:')
    throw badUrl('it must start with postgresql:// or postgres://');
  let password = url.password ? decodeURIComponent(url.password) : undefined;
  const inQuery = url.searchParams.get('password');
  if (inQuery !== null) password ??= inQuery;
  url.password = '';
  url.searchParams.delete('password');
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database || database.includes('/')) throw badUrl('it must name the database (…/DATABASE)');
  const server = url.host || url.searchParams.get('host') || 'the local socket';
  const display = password === undefined ? url.toString() : url.toString().replace('@', ':***@');
  return { connection: url.toString(), password, database, server, display };
}

/** The tools' environment: PGPASSWORD from the URL, or what the caller's environment gives. */
export function postgresEnv(
  target: PostgresTarget,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env = { ...base };
  if (target.password !== undefined) env.PGPASSWORD = target.password;
  return env;
}

/** Masks the password wherever a tool might echo it. */
export function redactor(target: PostgresTarget): (text: string) => string {
  const secrets = [target.password, target.password && encodeURIComponent(target.password)].filter(
    (s): s is string => !!s && s.length >= 3,
  );
  return (text) => secrets.reduce((out, secret) => out.split(secret).join('***'), text);
}

/** pg_dump / pg_restore: from PATH, else the newest /usr/lib/postgresql/N/bin. */
export function findPgTool(name: 'pg_dump' | 'pg_restore', env: NodeJS.ProcessEnv = process.env): string {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', name)))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0]) return join(root, versions[0], 'bin', name);
  throw new NotFoundError('POSTGRES_TOOL_MISSING', `${name} was not found on PATH or in ${root}/*/bin`, {
    hint: 'install the PostgreSQL client tools (at least the server version)',
  });
}

/** A clear error from a failed pg_dump / pg_restore, or undefined when nothing specific fits. */
export function postgresFailure(tool: string, target: PostgresTarget, stderr: string): Error | undefined {
  const missing = /database "([^"]+)" does not exist/.exec(stderr);
  if (missing) {
    return new NotFoundError(
      'DATABASE_NOT_FOUND',
      `database "${missing[1]}" does not exist on ${target.server}`,
      {
        hint: 'create it first (createdb); offsite creates nothing the URL does not name',
      },
    );
  }
  if (/password authentication failed|no password supplied/.test(stderr)) {
    return new AuthError(
      'POSTGRES_AUTH_FAILED',
      `${tool}: PostgreSQL refused the login to ${target.display}`,
      {
        hint: 'check the user and password in the URL',
      },
    );
  }
  if (/could not connect|Connection refused|could not translate host name/.test(stderr)) {
    return new TransientError(
      'POSTGRES_UNREACHABLE',
      `${tool} cannot reach ${target.server}: ${lastLine(stderr)}`,
      {
        hint: 'check that the server runs and that host and port in the URL are right',
      },
    );
  }
  return undefined;
}

export interface PgDumpOptions {
  /** Where the dump is kept in the snapshot (default DATABASE.pgdump). */
  name?: string;
  env?: NodeJS.ProcessEnv;
  onStderr?: (text: string) => void;
}

/**
 * The argv and environment of pg_dump for a URL. Custom format (what pg_restore reads,
 * table by table) without pg_dump's own compression: the repository compresses, and an
 * uncompressed dump deduplicates against yesterday's where a compressed one would not.
 */
export function pgDumpCommand(url: string, env: NodeJS.ProcessEnv = process.env) {
  const target = parsePostgresUrl(url);
  const args = ['--format=custom', '--compress=0', '--no-password', `--dbname=${target.connection}`];
  return { command: findPgTool('pg_dump', env), args, env: postgresEnv(target, env), target };
}

/** pg_dump of one database as a backup stream; the backup fails if pg_dump does. */
export function pgDumpSource(url: string, options: PgDumpOptions = {}): CommandSource {
  const { command, args, env, target } = pgDumpCommand(url, options.env);
  return commandSource(command, args, {
    name: options.name ?? `${target.database}.pgdump`,
    env,
    label: 'pg_dump',
    redact: redactor(target),
    ...(options.onStderr ? { onStderr: options.onStderr } : {}),
    describeFailure: (exit, stderr) => {
      const known = postgresFailure('pg_dump', target, stderr);
      if (known) return known;
      const why = lastLine(stderr);
      return new BadInputError(
        'PG_DUMP_FAILED',
        `pg_dump of ${target.display} ${exitText(exit)}${why ? `: ${why}` : ''}`,
        {
          hint: 'no snapshot was written',
        },
      );
    },
  });
}
