import { type CommandContext, str, UsageError } from '../../command.ts';
import { formatBytes, table } from '../../output.ts';
import { type VaultAction, vaultPath } from './action.ts';

// Recovery points of a vault: listing them, and bringing a soft-deleted one back.

interface Point {
  id: string;
  server: string;
  time: string;
  state: string;
  deleteAfter: string | null;
  bytesAdded: number;
  stats: Record<string, unknown>;
}

function protectedBytes(p: Point): string {
  const n = p.stats.bytesProcessed;
  return typeof n === 'number' ? formatBytes(n) : '-';
}

function stateText(p: Point): string {
  return p.state === 'soft-deleted' && p.deleteAfter ? `soft-deleted (gone after ${p.deleteAfter})` : p.state;
}

async function listPoints(ctx: CommandContext, client: Parameters<VaultAction['run']>[1], args: string[]) {
  const [vault, extra] = args;
  if (!vault) throw new UsageError('points needs the vault NAME');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const query = new URLSearchParams({ state: ctx.values.all === true ? 'all' : 'active' });
  const server = str(ctx.values, 'server');
  if (server) query.set('server', server);
  const answer = (await (await client()).call('GET', vaultPath(vault, `/points?${query}`))) as {
    points: Point[];
  };
  ctx.out.data(answer);
  if (answer.points.length === 0) {
    ctx.out.line('no recovery points');
    return 0;
  }
  const rows = answer.points.map((p) => [
    p.id,
    p.server,
    p.time,
    protectedBytes(p),
    formatBytes(p.bytesAdded),
    stateText(p),
  ]);
  ctx.out.line(table([['ID', 'SERVER', 'TIME', 'SIZE', 'ADDED', 'STATE'], ...rows]));
  return 0;
}

export const POINTS_ACTIONS: VaultAction[] = [
  {
    name: 'points',
    usage: 'points NAME [--server S] [--all]',
    summary: 'list recovery points (--all: soft-deleted and deleted ones too)',
    options: { server: { type: 'string' }, all: { type: 'boolean' } },
    optionHelp: [
      ['--server S', 'only the recovery points (or usage) of registered server S'],
      ['--all', 'points: list soft-deleted and deleted recovery points too'],
    ],
    run: listPoints,
  },
  {
    name: 'undelete',
    usage: 'undelete NAME POINT_ID',
    summary: 'bring a soft-deleted recovery point back',
    run: async (ctx, client, args) => {
      const [vault, id, extra] = args;
      if (!vault || !id) throw new UsageError('undelete needs the vault NAME and the POINT_ID');
      if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
      const path = vaultPath(vault, `/points/${encodeURIComponent(id)}/undelete`);
      const point = (await (await client()).call('POST', path)) as Point;
      ctx.out.data(point);
      ctx.out.line(`recovery point ${point.id} of ${point.server} (${point.time}) is back: ${point.state}`);
      return 0;
    },
  },
];
