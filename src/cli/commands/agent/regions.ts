import { request } from 'node:https';
import { performance } from 'node:perf_hooks';
import { agentClient, agentDir, requireAgentState } from '../../../agent/index.ts';
import type { AgentState } from '../../../agent/state.ts';
import { TransientError } from '../../../errors/index.ts';
import { errorFromResponse } from '../../../server/index.ts';
import {
  MAX_PROBE_BYTES,
  type OfferedRegion,
  type ProbeTransport,
  probeRegions,
  type RegionProbe,
} from '../../../vault/probe/index.ts';
import { type CommandContext, str, UsageError } from '../../command.ts';
import { formatBytes, table } from '../../output.ts';
import type { AgentAction } from './action.ts';

// `offsite agent regions [--probe]`: the regions the vault server offers and, probed from
// this machine through the vault, each one's latency (median of several small round
// trips) and upload / download throughput (one bounded test object, deleted at once).
// The result is kept by the vault as this server's last probe (the console shows it).

/** Raw bytes over the agent's mutual-TLS connection (the JSON client carries JSON only). */
function raw(state: AgentState, method: string, path: string, body?: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, state.info.server), {
      method,
      ca: state.caPem,
      cert: state.certPem,
      key: state.keyPem,
      timeout: 60_000,
      headers: body ? { 'content-type': 'application/octet-stream', 'content-length': body.length } : {},
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) =>
      reject(
        new TransientError('SERVER_UNREACHABLE', `cannot reach the vault: ${err.message}`, { cause: err }),
      ),
    );
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(bytes);
        let parsed: unknown;
        try {
          parsed = JSON.parse(bytes.toString('utf8'));
        } catch {}
        reject(errorFromResponse(status, parsed));
      });
    });
    req.end(body);
  });
}

function transport(state: AgentState): ProbeTransport {
  const at = (region: string, rest: string) => `/v1/agent/probe/${encodeURIComponent(region)}${rest}`;
  return {
    ping: async (region) => {
      await raw(state, 'GET', at(region, '/ping'));
    },
    put: async (region, id, bytes) => {
      await raw(state, 'PUT', at(region, `/objects/${id}`), bytes);
    },
    get: (region, id) => raw(state, 'GET', at(region, `/objects/${id}`)),
    delete: async (region, id) => {
      await raw(state, 'DELETE', at(region, `/objects/${id}`));
    },
  };
}

function probeBytes(ctx: CommandContext): number | undefined {
  const text = str(ctx.values, 'probe-bytes');
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_PROBE_BYTES) {
    throw new UsageError(`--probe-bytes must be a whole number from 1 to ${MAX_PROBE_BYTES}`);
  }
  return n;
}

const rate = (bps: number | null) => (bps === null ? '-' : `${formatBytes(bps)}/s`);

function printTable(ctx: CommandContext, regions: OfferedRegion[], probes: RegionProbe[] | null): void {
  const role = (r: OfferedRegion) => r.role ?? '-';
  if (!probes) {
    ctx.out.line(table([['REGION', 'KIND', 'THIS VAULT'], ...regions.map((r) => [r.name, r.kind, role(r)])]));
    return;
  }
  const rows = probes.map((p) => {
    const r = regions.find((x) => x.name === p.region)!;
    if (p.error) return [p.region, p.kind, role(r), '-', '-', '-', p.error];
    return [
      p.region,
      p.kind,
      role(r),
      `${p.latencyMs} ms`,
      rate(p.uploadBytesPerSecond),
      rate(p.downloadBytesPerSecond),
      'ok',
    ];
  });
  ctx.out.line(table([['REGION', 'KIND', 'THIS VAULT', 'LATENCY', 'UPLOAD', 'DOWNLOAD', 'STATUS'], ...rows]));
}

async function regionsAction(ctx: CommandContext): Promise<number> {
  const state = await requireAgentState(agentDir(ctx.env));
  const client = agentClient(state);
  const { regions } = (await client.call('GET', '/v1/agent/regions')) as { regions: OfferedRegion[] };
  if (ctx.values.probe !== true) {
    ctx.out.data({ regions });
    printTable(ctx, regions, null);
    return 0;
  }
  const bytes = probeBytes(ctx);
  ctx.out.note(`probing ${regions.length} region(s) through the vault…`);
  const probes = await probeRegions(transport(state), regions, {
    now: () => performance.now(),
    ...(bytes ? { bytes } : {}),
  });
  const saved = (await client.call('POST', '/v1/agent/probe', { regions: probes })) as { probedAt: string };
  ctx.out.data({ regions, probes, probedAt: saved.probedAt });
  printTable(ctx, regions, probes);
  return probes.some((p) => p.error) ? 3 : 0;
}

export const REGIONS_ACTIONS: AgentAction[] = [
  {
    name: 'regions',
    usage: 'regions [--probe] [--probe-bytes N]',
    summary: 'list the regions the vault server offers; --probe measures latency and throughput to each',
    options: { probe: { type: 'boolean' }, 'probe-bytes': { type: 'string' } },
    optionHelp: [
      [
        '--probe',
        'measure latency and upload / download throughput to each region (test objects are deleted)',
      ],
      ['--probe-bytes N', `size of the test object (default and most ${MAX_PROBE_BYTES})`],
    ],
    run: (ctx, args) => {
      if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
      return regionsAction(ctx);
    },
  },
];
