import { BadInputError, NotFoundError } from '../errors/index.ts';
import type { JsonObject } from '../vault/catalog/index.ts';
import { MAX_PROBE_BYTES, type OfferedRegion, ProbeWindow } from '../vault/probe/index.ts';
import { readUpload, uploadLength } from './body.ts';
import type { AgentIdentity, RequestContext, Route, RouteResult, Schema } from './types.ts';
import { visibleVault } from './vault-routes.ts';

// Region probes (the agent measures, `offsite agent regions --probe`): the regions the
// server offers, and a probe area in each — `_probe/<server id>/<id>`, outside every
// vault's `<vault id>/` tree, so no repository, usage count or rebuild sees it. A test
// object is at most 4 MiB, one per server and region (an upload first deletes the
// server's leftovers), deleted by the agent at once; uploads are rate-limited per server.

const KIB = 1024;
const ID = /^[0-9a-f]{32}$/;
const PROBE_AREA = '_probe';
const UPLOADS_PER_WINDOW = 12;
const WINDOW_MS = 10 * 60_000;
const MAX_RESULTS = 32;

const window = new ProbeWindow(UPLOADS_PER_WINDOW, WINDOW_MS);

function agentOf(ctx: RequestContext): AgentIdentity {
  return ctx.agent!;
}

function kindOf(url: string): string {
  return url.slice(0, url.indexOf(':'));
}

function offered(ctx: RequestContext): OfferedRegion[] {
  const { vault } = agentOf(ctx);
  return ctx.services.regions.map((r) => ({
    name: r.name,
    kind: kindOf(r.url),
    role: r.name === vault.region ? 'primary' : r.name === vault.secondaryRegion ? 'secondary' : null,
  }));
}

/** The region named in the path and this server's probe object in it. */
function target(ctx: RequestContext, withObject: boolean) {
  const region = ctx.params.region!;
  const store = ctx.services.regionStore(region);
  const folder = `${PROBE_AREA}/${agentOf(ctx).server.id}`;
  if (!withObject) return { store, folder, name: '' };
  const id = ctx.params.id!;
  if (!ID.test(id)) throw new BadInputError('BAD_FIELD', 'id: 32 lowercase hex digits');
  return { store, folder, name: `${folder}/${id}` };
}

async function regionsRoute(ctx: RequestContext): Promise<RouteResult> {
  return { body: { regions: offered(ctx), maxProbeBytes: MAX_PROBE_BYTES } };
}

/** One small round trip to the region (a lookup of a name that is never there). */
async function pingRoute(ctx: RequestContext): Promise<RouteResult> {
  const { store, folder } = target(ctx, false);
  await store.head(`${folder}/ping`);
  return { body: { region: ctx.params.region } };
}

async function putRoute(ctx: RequestContext): Promise<RouteResult> {
  const length = uploadLength(ctx.request, MAX_PROBE_BYTES);
  const { store, folder, name } = target(ctx, true);
  window.take(agentOf(ctx).server.id, ctx.services.now());
  const { bytes } = await readUpload(ctx.request, length);
  for await (const leftover of store.list(`${folder}/`)) await store.delete(leftover.name);
  await store.put(name, bytes);
  return { status: 201, body: { size: bytes.length } };
}

async function getRoute(ctx: RequestContext): Promise<RouteResult> {
  const { store, name } = target(ctx, true);
  const info = await store.head(name);
  if (!info) throw new NotFoundError('PROBE_NOT_FOUND', 'no such probe object of this server');
  return { body: await store.get(name), contentType: 'application/octet-stream' };
}

async function deleteRoute(ctx: RequestContext): Promise<RouteResult> {
  const { store, name } = target(ctx, true);
  await store.delete(name);
  return { body: { deleted: true } };
}

function checkedResults(body: unknown): JsonObject {
  const regions = (body as { regions?: unknown } | null)?.regions;
  if (!Array.isArray(regions) || regions.length > MAX_RESULTS) {
    throw new BadInputError('BAD_FIELD', `regions: an array of at most ${MAX_RESULTS} probe results`);
  }
  const numOrNull = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);
  return {
    regions: regions.map((r: Record<string, unknown>) => ({
      region: typeof r?.region === 'string' ? r.region.slice(0, 40) : '?',
      kind: typeof r?.kind === 'string' ? r.kind.slice(0, 10) : '?',
      latencyMs: numOrNull(r?.latencyMs),
      uploadBytesPerSecond: numOrNull(r?.uploadBytesPerSecond),
      downloadBytesPerSecond: numOrNull(r?.downloadBytesPerSecond),
      bytes: numOrNull(r?.bytes),
      error: typeof r?.error === 'string' ? r.error.slice(0, 60) : null,
    })),
  };
}

async function saveRoute(ctx: RequestContext): Promise<RouteResult> {
  const { server } = agentOf(ctx);
  const saved = await ctx.services.catalog.saveProbe({
    serverId: server.id,
    probedAt: ctx.services.now(),
    results: checkedResults(ctx.body),
  });
  return { body: { probedAt: new Date(saved.probedAt).toISOString(), ...saved.results } };
}

async function listRoute(ctx: RequestContext): Promise<RouteResult> {
  const vault = await visibleVault(ctx);
  const { catalog } = ctx.services;
  const names = new Map((await catalog.listServers(vault.id)).map((s) => [s.id, s.name]));
  const probes = await catalog.listProbes(vault.id);
  return {
    body: {
      probes: probes.map((p) => ({
        server: names.get(p.serverId) ?? p.serverId,
        probedAt: new Date(p.probedAt).toISOString(),
        ...p.results,
      })),
    },
  };
}

const REGION_PATH = '/v1/agent/probe/:region';
const OBJECT_PATH = `${REGION_PATH}/objects/:id`;
const AGENT = { auth: 'agent', tag: 'region probe' } as const;
const OBJECT: Schema = { type: 'object' };

export const PROBE_ROUTES: readonly Route[] = [
  {
    ...AGENT,
    method: 'GET',
    path: '/v1/agent/regions',
    bodyLimit: 0,
    summary: 'The regions this vault server offers (name, kind, whether the vault is there)',
    response: { status: 200, schema: OBJECT },
    handler: regionsRoute,
  },
  {
    ...AGENT,
    method: 'GET',
    path: `${REGION_PATH}/ping`,
    bodyLimit: 0,
    summary: 'One small round trip through the vault to the region (latency probe)',
    response: { status: 200, schema: OBJECT },
    handler: pingRoute,
  },
  {
    ...AGENT,
    method: 'PUT',
    path: OBJECT_PATH,
    bodyLimit: MAX_PROBE_BYTES,
    body: 'stream',
    summary: `Store a probe object (at most ${MAX_PROBE_BYTES} bytes) in the region's probe area; rate-limited per server`,
    response: { status: 201, schema: OBJECT },
    handler: putRoute,
  },
  {
    ...AGENT,
    method: 'GET',
    path: OBJECT_PATH,
    bodyLimit: 0,
    summary: "Read back one of this server's probe objects",
    response: { status: 200, schema: { type: 'string' }, contentType: 'application/octet-stream' },
    handler: getRoute,
  },
  {
    ...AGENT,
    method: 'DELETE',
    path: OBJECT_PATH,
    bodyLimit: 0,
    summary: "Delete one of this server's probe objects (idempotent)",
    response: { status: 200, schema: OBJECT },
    handler: deleteRoute,
  },
  {
    ...AGENT,
    method: 'POST',
    path: '/v1/agent/probe',
    bodyLimit: 16 * KIB,
    summary: "Keep this server's last probe results (latency, upload and download per region)",
    requestBody: { type: 'object', required: ['regions'], properties: { regions: { type: 'array' } } },
    response: { status: 200, schema: OBJECT },
    handler: saveRoute,
  },
  {
    method: 'GET',
    path: '/v1/vaults/:name/probes',
    auth: 'token',
    minRole: 'reader',
    bodyLimit: 0,
    summary: "Each server's last region probe",
    tag: 'region probe',
    response: { status: 200, schema: OBJECT },
    handler: listRoute,
  },
];
