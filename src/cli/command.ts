import type { ParseArgsOptionsConfig } from 'node:util';
import { attachCache } from '../agent/cache.ts';
import { type AgentState, agentDir, loadAgentState, renewIfDue, vaultRepoStore } from '../agent/index.ts';
import { openVaultRepository } from '../agent/other-server.ts';
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
  ['-r, --repo LOCATION', "repository path or URL (default: $OFFSITE_REPOSITORY, else this machine's vault)"],
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

/** Where commands work: a repository given by --repo / $OFFSITE_REPOSITORY, or this machine's vault. */
export type Target = { kind: 'repo'; location: string } | { kind: 'vault'; agent: AgentState };

export async function resolveTarget(ctx: CommandContext): Promise<Target> {
  const location = str(ctx.values, 'repo') ?? ctx.env.OFFSITE_REPOSITORY;
  if (location) return { kind: 'repo', location };
  const agent = await loadAgentState(agentDir(ctx.env));
  if (!agent) {
    throw new UsageError(
      'no repository given: use --repo, set OFFSITE_REPOSITORY, or register this machine with a vault (offsite agent register)',
    );
  }
  return { kind: 'vault', agent: await renewIfDue(agent) };
}

export function targetStore(target: Target): BlobStore {
  return target.kind === 'repo' ? storeFor(target.location) : vaultRepoStore(target.agent);
}

/** Deleting history is the vault's job (retention); an agent cannot, so say so up front. */
export function refuseInVault(target: Target, command: string): void {
  if (target.kind === 'vault') {
    throw new UsageError(
      `${command} does not run against a vault: agents cannot delete history; the vault applies retention and collects garbage itself`,
    );
  }
}

export async function openTarget(
  ctx: CommandContext,
  options: { index?: boolean; standaloneOnly?: string } = {},
): Promise<{ repo: Repository; target: Target }> {
  const target = await resolveTarget(ctx);
  if (options.standaloneOnly) refuseInVault(target, options.standaloneOnly);
  const passphrase = await readPassphrase({ passwordFile: str(ctx.values, 'password-file'), env: ctx.env });
  const fromServer = str(ctx.values, 'from-server');
  if (fromServer !== undefined && target.kind !== 'vault')
    throw new UsageError("--from-server reads another server of this agent's vault: leave out --repo");
  const repo =
    target.kind === 'vault'
      ? await openVaultRepository(target.agent, targetStore(target), passphrase, fromServer)
      : await Repository.open(targetStore(target), passphrase);
  if (target.kind === 'vault') await attachCache(repo, target.agent);
  if (options.index !== false) await repo.loadIndex();
  return { repo, target };
}

/** `standaloneOnly: 'forget'` refuses to run against the vault, naming the command. */
export async function openRepository(
  ctx: CommandContext,
  options: { index?: boolean; standaloneOnly?: string } = {},
): Promise<Repository> {
  return (await openTarget(ctx, options)).repo;
}

/** Storage as the CLI uses it: transient failures retried with backoff, permanent ones not. */
export function storeFor(location: string): BlobStore {
  return new RetryStore(openStore(location));
}

/** Wrong command-line use; printed with the command's usage line. */
export class UsageError extends Error {}
