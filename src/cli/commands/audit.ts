import { IntegrityError } from '../../errors/index.ts';
import type { ServerClient } from '../../server/index.ts';
import { parseDuration } from '../../util/index.ts';
import { type Command, type CommandContext, str, UsageError } from '../command.ts';
import { table } from '../output.ts';
import { adminClient } from './vault/client.ts';

// `offsite audit`: the vault server's audit log (owner tokens). list prints a table (or
// --json), export prints every entry as one JSON line (for a SIEM or an archive), verify
// checks the hash chain and fails naming the first broken entry.

interface Entry {
  seq: number;
  time: string;
  actor: Record<string, unknown>;
  address: string | null;
  action: string;
  target: string | null;
  vault: string | null;
  outcome: string;
  errorCode: string | null;
}

interface Verification {
  ok: boolean;
  checked: number;
  anchorSeq: number;
  headSeq: number;
  broken: { seq: number; reason: string } | null;
}

/** --since: an ISO time, or a duration back from now (24h, 7d). */
function sinceOf(ctx: CommandContext): string | undefined {
  const text = str(ctx.values, 'since');
  if (text === undefined) return undefined;
  if (/^\d+(ms|s|m|h|d|w)/.test(text)) return new Date(Date.now() - parseDuration(text)).toISOString();
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new UsageError('--since takes an ISO time (2026-01-31T00:00:00Z) or a duration (7d)');
  return new Date(ms).toISOString();
}

async function* entries(ctx: CommandContext, client: ServerClient): AsyncGenerator<Entry> {
  const query = new URLSearchParams();
  const since = sinceOf(ctx);
  if (since) query.set('since', since);
  const vault = str(ctx.values, 'vault');
  if (vault) query.set('vault', vault);
  let after = 0;
  for (;;) {
    query.set('after', String(after));
    const page = (await client.call('GET', `/v1/audit?${query}`)) as {
      entries: Entry[];
      next: number | null;
    };
    yield* page.entries;
    if (page.next === null) return;
    after = page.next;
  }
}

function actorText(actor: Record<string, unknown>): string {
  if (actor.kind === 'token') return `${actor.user ? `${actor.user} via ` : ''}token ${actor.tokenName}`;
  if (actor.kind === 'agent') return `agent ${actor.server}`;
  if (actor.kind === 'site-agent') return `site agent ${actor.siteId}`;
  return String(actor.name ? `${actor.kind} ${actor.name}` : actor.kind);
}

async function list(ctx: CommandContext): Promise<number> {
  const client = await adminClient(ctx);
  const found: Entry[] = [];
  for await (const e of entries(ctx, client)) found.push(e);
  ctx.out.data({ entries: found });
  const rows = found.map((e) => [
    String(e.seq),
    e.time,
    actorText(e.actor),
    e.address ?? '-',
    e.action,
    e.target ?? '-',
    e.errorCode ? `${e.outcome} ${e.errorCode}` : e.outcome,
  ]);
  ctx.out.line(table([['SEQ', 'TIME', 'WHO', 'FROM', 'ACTION', 'TARGET', 'OUTCOME'], ...rows]));
  return 0;
}

async function exportLines(ctx: CommandContext): Promise<number> {
  const client = await adminClient(ctx);
  let n = 0;
  for await (const e of entries(ctx, client)) {
    process.stdout.write(`${JSON.stringify(e)}\n`);
    n += 1;
  }
  ctx.out.note(`exported ${n} audit entries`);
  return 0;
}

async function verify(ctx: CommandContext): Promise<number> {
  const result = (await (await adminClient(ctx)).call('GET', '/v1/audit/verify')) as Verification;
  ctx.out.data(result);
  if (result.broken) {
    throw new IntegrityError(
      'AUDIT_CHAIN_BROKEN',
      `audit entry ${result.broken.seq} is broken: ${result.broken.reason}`,
      {
        hint: 'the audit log was changed outside Offsite; keep the catalog as it is for investigation',
      },
    );
  }
  ctx.out.line(
    `audit log verified: ${result.checked} entries (seq ${result.anchorSeq} to ${result.headSeq})`,
  );
  return 0;
}

export const auditCommand: Command = {
  name: 'audit',
  summary: "read and verify the vault server's audit log",
  usage: 'offsite audit list [--vault V] [--since T] | audit export [--since T] | audit verify',
  details: [
    'Every change made through the API (and refused attempts) is recorded with who, when,',
    'from where, what changed and the outcome, each entry chained to the last by SHA-256.',
    'export prints JSON lines; verify exits nonzero naming the first broken entry.',
    'Needs an owner token; talks to $OFFSITE_SERVER like `offsite vault`.',
  ].join('\n'),
  options: {
    vault: { type: 'string' },
    since: { type: 'string' },
    'token-file': { type: 'string' },
  },
  optionHelp: [
    ['--vault V', "only vault V's entries"],
    ['--since T', 'entries from T on: an ISO time or a duration back from now (7d)'],
    ['--token-file F', 'read the API token from F (default: $OFFSITE_TOKEN)'],
  ],
  async run(ctx) {
    const [action, extra] = ctx.positionals;
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    if (action === 'list') return list(ctx);
    if (action === 'export') return exportLines(ctx);
    if (action === 'verify') return verify(ctx);
    throw new UsageError('give one of: list, export, verify');
  },
};
