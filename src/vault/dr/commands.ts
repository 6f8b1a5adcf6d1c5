import { BadInputError } from '../../errors/index.ts';
import type { Catalog, CommandRow, JsonObject, SiteRow } from '../catalog/index.ts';
import { iso } from '../ops/index.ts';

// Commands from the server to a site agent: queued here, fetched by the agent's poll
// (which marks them sent), run by the agent, finished by its report. A command sent but
// never reported is sent again after RESEND_AFTER_MS (the agent may have died with it),
// so a kind's execution must be idempotent. The kinds are the contract with the site agent
// (src/dr/agent/commands.ts). Through the API a person queues them one by one: `noop`,
// `probe` and `replicate-now` change nothing; the kinds that start, stop or fence a
// workload need an owner; `script` (any shell command on the site) runs only as an action
// of a recovery plan, which an owner wrote, never ad hoc.

export const COMMAND_KINDS = [
  'noop',
  'probe',
  'replicate-now',
  'stop',
  'fence',
  'materialise',
  'start',
  'cleanup-test',
  'script',
] as const;
export type CommandKind = (typeof COMMAND_KINDS)[number];

/** Who may queue a kind through the API; undefined: only recovery plans queue it. */
export const QUEUE_ROLE: Readonly<Record<CommandKind, 'operator' | 'owner' | undefined>> = {
  noop: 'operator',
  probe: 'operator',
  'replicate-now': 'operator',
  stop: 'owner',
  fence: 'owner',
  materialise: 'owner',
  start: 'owner',
  'cleanup-test': 'owner',
  script: undefined,
};

const WITHOUT_WORKLOAD: readonly CommandKind[] = ['noop', 'script', 'cleanup-test'];
export const RESEND_AFTER_MS = 5 * 60_000;
const POLL_LIMIT = 20;
const MAX_RESULT_BYTES = 64 * 1024;

function bad(field: string, rule: string): BadInputError {
  return new BadInputError('BAD_FIELD', `${field}: ${rule}`);
}

/** Queues a command of a known kind; a probe must name a workload the site runs or replicates. */
export async function queueSiteCommand(
  catalog: Catalog,
  site: SiteRow,
  body: unknown,
  now: number,
): Promise<CommandRow> {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const kind = fields.kind;
  if (!COMMAND_KINDS.includes(kind as CommandKind))
    throw bad('kind', `must be one of ${COMMAND_KINDS.join(', ')}`);
  const payload = fields.payload ?? {};
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw bad('payload', 'must be an object');
  }
  if (!WITHOUT_WORKLOAD.includes(kind as CommandKind)) {
    const workload = (payload as Record<string, unknown>).workload;
    const names = (await catalog.listWorkloads({ siteId: site.id })).map((w) => w.name);
    if (typeof workload !== 'string' || !names.includes(workload)) {
      throw bad(
        'payload.workload',
        `must be a workload of the site "${site.name}" (${names.join(', ') || 'none'})`,
      );
    }
  }
  return catalog.queueCommand({
    siteId: site.id,
    kind: kind as string,
    payload: payload as JsonObject,
    createdAt: now,
  });
}

export function pollCommands(catalog: Catalog, site: SiteRow, now: number): Promise<CommandRow[]> {
  return catalog.claimCommands(site.id, { now, resendSentBefore: now - RESEND_AFTER_MS, limit: POLL_LIMIT });
}

/** The agent's report of a command's outcome: {state: succeeded|failed, result: {...}}. */
export function finishSiteCommand(
  catalog: Catalog,
  site: SiteRow,
  id: string,
  body: unknown,
  now: number,
): Promise<CommandRow> {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (fields.state !== 'succeeded' && fields.state !== 'failed')
    throw bad('state', 'must be succeeded or failed');
  const result = fields.result;
  if (typeof result !== 'object' || result === null || Array.isArray(result))
    throw bad('result', 'must be an object');
  if (JSON.stringify(result).length > MAX_RESULT_BYTES)
    throw bad('result', `must be at most ${MAX_RESULT_BYTES} bytes`);
  return catalog.finishCommand(id, site.id, { state: fields.state, result: result as JsonObject, at: now });
}

export function commandJson(command: CommandRow, siteName: string) {
  return {
    id: command.id,
    site: siteName,
    kind: command.kind,
    payload: command.payload,
    state: command.state,
    result: command.result,
    createdAt: iso(command.createdAt),
    sentAt: iso(command.sentAt),
    finishedAt: iso(command.finishedAt),
  };
}
