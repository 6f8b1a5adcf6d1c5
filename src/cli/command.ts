import type { ParseArgsOptionsConfig } from 'node:util';
import { Repository, type SnapshotFilter } from '../repo/index.ts';
import { type BlobStore, openStore, RetryStore } from '../storage/index.ts';
import type { Output } from './output.ts';
import { readPassphrase } from './passphrase.ts';

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface CommandContext {
  values: Values;
  positionals: string[];
  out: Output;
  env: NodeJS.ProcessEnv;
}

/** A CLI command: one file under commands/, thin — parse, call the library, print. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Extra help text after the option list. */
  details?: string;
  options: ParseArgsOptionsConfig;
  optionHelp: [string, string][];
  run(ctx: CommandContext): Promise<number>;
}

export const REPO_OPTIONS: ParseArgsOptionsConfig = {
  repo: { type: 'string', short: 'r' },
  'password-file': { type: 'string' },
};

export const REPO_OPTION_HELP: [string, string][] = [
  ['-r, --repo LOCATION', 'repository path or URL (default: $OFFSITE_REPOSITORY)'],
  ['--password-file FILE', 'read the passphrase from FILE (also $OFFSITE_PASSWORD_FILE, $OFFSITE_PASSWORD)'],
];

export function str(values: Values, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

export function list(values: Values, key: string): string[] {
  const v = values[key];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** The snapshot filter that --host, --tag and --path spell (each only when given). */
export function snapshotFilter(values: Values): SnapshotFilter {
  const host = str(values, 'host');
  const tags = list(values, 'tag');
  const paths = list(values, 'path');
  return {
    ...(host ? { hostname: host } : {}),
    ...(tags.length ? { tags } : {}),
    ...(paths.length ? { paths: [...paths].sort() } : {}),
  };
}

export function repoLocation(ctx: CommandContext): string {
  const location = str(ctx.values, 'repo') ?? ctx.env.OFFSITE_REPOSITORY;
  if (!location) throw new UsageError('no repository given: use --repo or set OFFSITE_REPOSITORY');
  return location;
}

export async function openRepository(
  ctx: CommandContext,
  options: { index?: boolean } = {},
): Promise<Repository> {
  const store = storeFor(repoLocation(ctx));
  const passphrase = await readPassphrase({ passwordFile: str(ctx.values, 'password-file'), env: ctx.env });
  const repo = await Repository.open(store, passphrase);
  if (options.index !== false) await repo.loadIndex();
  return repo;
}

/** Storage as the CLI uses it: transient failures retried with backoff, permanent ones not. */
export function storeFor(location: string): BlobStore {
  return new RetryStore(openStore(location));
}

/** Wrong command-line use; printed with the command's usage line. */
export class UsageError extends Error {}
