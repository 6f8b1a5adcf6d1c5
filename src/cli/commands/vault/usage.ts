import { type CommandContext, str, UsageError } from '../../command.ts';
import { formatBytes, table } from '../../output.ts';
import { type VaultAction, vaultPath } from './action.ts';

// How much a vault uses and why: protected vs stored bytes, the breakdown in sentences,
// per server and (with --server) per recovery point.

interface Explanation {
  key: string;
  bytes: number;
  text: string;
}

interface Figures {
  protectedBytes: number;
  storedBytes: number;
  breakdown: { dataBytes: number; metadataBytes: number };
  explanations: Explanation[];
}

interface ServerFigures extends Figures {
  server: string;
  points: {
    id: string;
    time: string;
    state: string;
    protectedBytes: number;
    addedBytes: number;
    uniqueBytes: number;
  }[];
}

interface UsageAnswer extends Figures {
  vault: string;
  at: string;
  servers: ServerFigures[];
}

function explainLines(ctx: CommandContext, figures: Figures): void {
  ctx.out.line();
  ctx.out.line('why your stored bytes differ from what you protect:');
  for (const e of figures.explanations) ctx.out.line(`  - ${e.text}`);
}

function serverDetail(ctx: CommandContext, s: ServerFigures): void {
  ctx.out.line(
    `server ${s.server}: protecting ${formatBytes(s.protectedBytes)}, storing ${formatBytes(s.storedBytes)}`,
  );
  explainLines(ctx, s);
  if (s.points.length === 0) return;
  ctx.out.line();
  const rows = s.points.map((p) => [
    p.id,
    p.time,
    p.state,
    formatBytes(p.protectedBytes),
    formatBytes(p.addedBytes),
    formatBytes(p.uniqueBytes),
  ]);
  ctx.out.line(table([['POINT', 'TIME', 'STATE', 'SIZE', 'ADDED', 'ONLY IN IT'], ...rows]));
}

async function usage(ctx: CommandContext, client: Parameters<VaultAction['run']>[1], args: string[]) {
  const [vault, extra] = args;
  if (!vault) throw new UsageError('usage needs the vault NAME');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const server = str(ctx.values, 'server');
  const query = server ? `?${new URLSearchParams({ server })}` : '';
  const u = (await (await client()).call('GET', vaultPath(vault, `/usage${query}`))) as UsageAnswer;
  ctx.out.data(u);
  if (server && u.servers[0]) {
    serverDetail(ctx, u.servers[0]);
    return 0;
  }
  ctx.out.line(
    `vault ${u.vault}: protecting ${formatBytes(u.protectedBytes)}, storing ${formatBytes(u.storedBytes)}`,
  );
  ctx.out.line(
    `  (data ${formatBytes(u.breakdown.dataBytes)}, metadata ${formatBytes(u.breakdown.metadataBytes)}; as of ${u.at})`,
  );
  explainLines(ctx, u);
  if (u.servers.length > 0) {
    ctx.out.line();
    const rows = u.servers.map((s) => [
      s.server,
      formatBytes(s.protectedBytes),
      formatBytes(s.storedBytes),
      String(s.points.length),
    ]);
    ctx.out.line(table([['SERVER', 'PROTECTED', 'STORED', 'POINTS'], ...rows]));
  }
  return 0;
}

export const USAGE_ACTIONS: VaultAction[] = [
  {
    name: 'usage',
    usage: 'usage NAME [--server S]',
    summary: 'protected and stored bytes, and why they differ',
    options: { server: { type: 'string' } },
    run: usage,
  },
];
