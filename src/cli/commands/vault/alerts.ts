import { BadInputError } from '../../../errors/index.ts';
import { type CommandContext, str, UsageError } from '../../command.ts';
import { table } from '../../output.ts';
import { type VaultAction, vaultPath } from './action.ts';
import { readText } from './client.ts';

// A vault's alerts (list, acknowledge) and the webhooks they are POSTed to.

interface Alert {
  id: string;
  kind: string;
  severity: string;
  state: string;
  message: string;
  server: string | null;
  raisedAt: string;
  occurrences: number;
}

interface Webhook {
  id: string;
  url: string;
  signed: boolean;
  createdAt: string;
}

type Client = Parameters<VaultAction['run']>[1];

function vaultOnly(args: string[], action: string): string {
  const [vault, extra] = args;
  if (!vault) throw new UsageError(`${action} needs the vault NAME`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  return vault;
}

async function acknowledge(ctx: CommandContext, client: Client, vault: string, id: string): Promise<number> {
  const path = vaultPath(vault, `/alerts/${encodeURIComponent(id)}/acknowledge`);
  const alert = (await (await client()).call('POST', path)) as Alert;
  ctx.out.data(alert);
  ctx.out.line(`acknowledged alert ${alert.id} (${alert.kind}); it stays listed until it is resolved`);
  return 0;
}

async function alerts(ctx: CommandContext, client: Client, args: string[]): Promise<number> {
  const vault = vaultOnly(args, 'alerts');
  const ack = str(ctx.values, 'ack');
  if (ack !== undefined) return acknowledge(ctx, client, vault, ack);
  const query = ctx.values.all === true ? '?all=1' : '';
  const answer = (await (await client()).call('GET', vaultPath(vault, `/alerts${query}`))) as {
    alerts: Alert[];
  };
  ctx.out.data(answer);
  if (answer.alerts.length === 0) {
    ctx.out.line(ctx.values.all === true ? 'no alerts' : 'no open alerts');
    return 0;
  }
  const rows = answer.alerts.map((a) => [
    a.id,
    a.severity,
    a.state,
    a.kind,
    a.server ?? '-',
    a.raisedAt,
    String(a.occurrences),
    a.message,
  ]);
  ctx.out.line(table([['ID', 'SEVERITY', 'STATE', 'KIND', 'SERVER', 'RAISED', 'TIMES', 'MESSAGE'], ...rows]));
  return 0;
}

async function secretFrom(ctx: CommandContext): Promise<string | undefined> {
  const file = str(ctx.values, 'secret-file');
  if (file === undefined) return undefined;
  const secret = (await readText(file, 'webhook secret file', 'give a readable --secret-file')).replace(
    /\r?\n$/,
    '',
  );
  if (secret === '') throw new BadInputError('EMPTY_SECRET', `the secret file ${file} is empty`);
  return secret;
}

async function addWebhook(ctx: CommandContext, client: Client, args: string[]): Promise<number> {
  const vault = vaultOnly(args, 'webhook-add');
  const url = str(ctx.values, 'url');
  if (!url) throw new UsageError('webhook-add needs --url URL');
  const secret = await secretFrom(ctx);
  const hook = (await (
    await client()
  ).call('POST', vaultPath(vault, '/webhooks'), {
    url,
    ...(secret === undefined ? {} : { secret }),
  })) as Webhook;
  ctx.out.data(hook);
  ctx.out.line(`added webhook ${hook.id} to vault ${vault}${hook.signed ? ' (signed)' : ''}`);
  return 0;
}

async function listWebhooks(ctx: CommandContext, client: Client, args: string[]): Promise<number> {
  const vault = vaultOnly(args, 'webhooks');
  const answer = (await (await client()).call('GET', vaultPath(vault, '/webhooks'))) as {
    webhooks: Webhook[];
  };
  ctx.out.data(answer);
  if (answer.webhooks.length === 0) {
    ctx.out.line('no webhooks');
    return 0;
  }
  const rows = answer.webhooks.map((w) => [w.id, w.signed ? 'yes' : 'no', w.createdAt, w.url]);
  ctx.out.line(table([['ID', 'SIGNED', 'CREATED', 'URL'], ...rows]));
  return 0;
}

async function deleteWebhook(ctx: CommandContext, client: Client, args: string[]): Promise<number> {
  const [vault, id, extra] = args;
  if (!vault || !id) throw new UsageError('webhook-delete needs the vault NAME and the webhook ID');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const hook = (await (
    await client()
  ).call('DELETE', vaultPath(vault, `/webhooks/${encodeURIComponent(id)}`))) as Webhook;
  ctx.out.data(hook);
  ctx.out.line(`deleted webhook ${hook.id}`);
  return 0;
}

export const ALERTS_ACTIONS: VaultAction[] = [
  {
    name: 'alerts',
    usage: 'alerts NAME [--all] [--ack ID]',
    summary: "list a vault's open alerts, or acknowledge one",
    options: { all: { type: 'boolean' }, ack: { type: 'string' } },
    optionHelp: [
      ['--all', 'with alerts: resolved ones too'],
      ['--ack ID', 'acknowledge the alert ID (it stays open until resolved)'],
    ],
    run: alerts,
  },
  {
    name: 'webhooks',
    usage: 'webhooks NAME',
    summary: "list the webhooks a vault's alerts are POSTed to",
    run: listWebhooks,
  },
  {
    name: 'webhook-add',
    usage: 'webhook-add NAME --url URL [--secret-file F]',
    summary: 'POST every alert of the vault to URL (signed when a secret is given)',
    options: { url: { type: 'string' }, 'secret-file': { type: 'string' } },
    optionHelp: [
      ['--url URL', 'with webhook-add: the http:// or https:// URL to POST alerts to'],
      ['--secret-file F', 'with webhook-add: sign deliveries with the secret in F (16+ characters)'],
    ],
    run: addWebhook,
  },
  {
    name: 'webhook-delete',
    usage: 'webhook-delete NAME ID',
    summary: 'stop POSTing alerts to a webhook',
    run: deleteWebhook,
  },
];
