import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Catalog, NewWorkload, SiteRow } from '../types.ts';
import { type Context, fingerprint, HOUR, makeServer, makeVault, rejectsWith, T0, UUID } from './context.ts';

// Disaster recovery: sites, site credentials and agents, workloads, reports, fencing and
// the command queue.

async function twoSites(c: Catalog, vaultName = 'main'): Promise<[SiteRow, SiteRow]> {
  const vault = await makeVault(c, vaultName);
  const a = await c.createSite({ vaultId: vault.id, name: `${vaultName}-a`, createdAt: T0 });
  const b = await c.createSite({ vaultId: vault.id, name: `${vaultName}-b`, createdAt: T0 });
  return [a, b];
}

function workload(
  a: SiteRow,
  b: SiteRow,
  name = 'db',
  spec: Record<string, string> = { v: '1' },
): NewWorkload {
  return { vaultId: a.vaultId, name, spec, primarySiteId: a.id, replicaSiteId: b.id };
}

export function siteCases(ctx: Context): void {
  it('creates, finds, lists and deletes sites; a deleted name can be used again', async () => {
    const [a, b] = await twoSites(ctx.catalog);
    assert.match(a.id, UUID);
    assert.deepEqual(a, {
      id: a.id,
      vaultId: a.vaultId,
      name: 'main-a',
      createdAt: T0,
      lastHeartbeatAt: null,
      downSince: null,
      deletedAt: null,
    });
    assert.deepEqual(await ctx.catalog.getSiteByName('main-a'), a);
    assert.deepEqual(await ctx.catalog.listSites(), [a, b]);
    assert.deepEqual(await ctx.catalog.listSites({ vaultId: 'other' }), []);
    await rejectsWith(
      ctx.catalog.createSite({ vaultId: a.vaultId, name: 'main-a', createdAt: T0 }),
      'conflict',
      'SITE_EXISTS',
    );
    const deleted = await ctx.catalog.deleteSite(a.id, T0 + 5);
    assert.equal(deleted.deletedAt, T0 + 5);
    assert.equal((await ctx.catalog.deleteSite(a.id, T0 + 9)).deletedAt, T0 + 5);
    await rejectsWith(ctx.catalog.getSiteByName('main-a'), 'not-found', 'SITE_NOT_FOUND');
    const again = await ctx.catalog.createSite({ vaultId: a.vaultId, name: 'main-a', createdAt: T0 + 6 });
    assert.notEqual(again.id, a.id);
    assert.deepEqual((await ctx.catalog.getSite(a.id)).deletedAt, T0 + 5);
  });

  it('refuses bad sites and deleting a site a workload uses', async () => {
    const [a, b] = await twoSites(ctx.catalog);
    await rejectsWith(
      ctx.catalog.createSite({ vaultId: 'nope', name: 'x', createdAt: T0 }),
      'not-found',
      'VAULT_NOT_FOUND',
    );
    await rejectsWith(
      ctx.catalog.createSite({ vaultId: a.vaultId, name: '', createdAt: T0 }),
      'bad-input',
      'BAD_FIELD',
    );
    await ctx.catalog.applyWorkloads([workload(a, b)], T0);
    await rejectsWith(ctx.catalog.deleteSite(b.id, T0), 'conflict', 'SITE_IN_USE');
    assert.equal((await ctx.catalog.getSite(b.id)).deletedAt, null);
  });

  it('marks a site down and up, and keeps the newest heartbeat', async () => {
    const [a] = await twoSites(ctx.catalog);
    assert.equal((await ctx.catalog.setSiteDown(a.id, T0 + 10)).downSince, T0 + 10);
    assert.equal((await ctx.catalog.setSiteDown(a.id, null)).downSince, null);
    await ctx.catalog.recordSiteReport({ siteId: a.id, at: T0 + 20, inventory: { n: 1 }, health: [] });
    const site = await ctx.catalog.recordSiteReport({
      siteId: a.id,
      at: T0 + 15,
      inventory: { n: 2 },
      health: [],
    });
    assert.equal(site.lastHeartbeatAt, T0 + 20);
    assert.deepEqual(await ctx.catalog.findSiteReport(a.id), {
      siteId: a.id,
      reportedAt: T0 + 15,
      inventory: { n: 2 },
    });
  });
}

export function siteAgentCases(ctx: Context): void {
  it('site credentials are single use, only the newest valid, and expire', async () => {
    const [a] = await twoSites(ctx.catalog);
    const issue = (hash: string, at: number) =>
      ctx.catalog.issueSiteCredentials({
        siteId: a.id,
        secretHash: hash,
        issuedAt: at,
        expiresAt: at + HOUR,
      });
    await issue('old', T0);
    await issue('new', T0 + 1);
    await rejectsWith(
      ctx.catalog.consumeSiteCredentials('old', T0 + 2),
      'auth',
      'SITE_CREDENTIALS_SUPERSEDED',
    );
    await rejectsWith(
      ctx.catalog.consumeSiteCredentials('new', T0 + 2 * HOUR),
      'auth',
      'SITE_CREDENTIALS_EXPIRED',
    );
    const used = await ctx.catalog.consumeSiteCredentials('new', T0 + 2);
    assert.equal(used.usedAt, T0 + 2);
    await rejectsWith(ctx.catalog.consumeSiteCredentials('new', T0 + 3), 'auth', 'SITE_CREDENTIALS_USED');
    await rejectsWith(
      ctx.catalog.consumeSiteCredentials('never', T0 + 3),
      'auth',
      'SITE_CREDENTIALS_UNKNOWN',
    );
  });

  it('pins one agent certificate per site; registering again replaces it', async () => {
    const [a, b] = await twoSites(ctx.catalog);
    const register = (siteId: string, label: string) =>
      ctx.catalog.registerSiteAgent({
        siteId,
        certFingerprint: fingerprint(label),
        certNotAfter: T0 + HOUR,
        registeredAt: T0,
      });
    const first = await register(a.id, 'one');
    assert.deepEqual(await ctx.catalog.findSiteAgentByFingerprint(fingerprint('one')), first);
    const second = await register(a.id, 'two');
    assert.equal(await ctx.catalog.findSiteAgentByFingerprint(fingerprint('one')), undefined);
    assert.deepEqual(await ctx.catalog.findSiteAgentOfSite(a.id), second);
    await rejectsWith(register(b.id, 'two'), 'conflict', 'CERT_IN_USE');
    const server = await makeServer(ctx.catalog, a.vaultId);
    await rejectsWith(
      ctx.catalog.registerSiteAgent({
        siteId: b.id,
        certFingerprint: server.certFingerprint,
        certNotAfter: T0 + HOUR,
        registeredAt: T0,
      }),
      'conflict',
      'CERT_IN_USE',
    );
    await ctx.catalog.deleteSite(a.id, T0 + 1);
    assert.equal(await ctx.catalog.findSiteAgentByFingerprint(fingerprint('two')), undefined);
  });
}

export function workloadCases(ctx: Context): void {
  it('applies workloads: created, unchanged, updated with a new version; fencing starts at the primary', async () => {
    const [a, b] = await twoSites(ctx.catalog);
    const [created] = await ctx.catalog.applyWorkloads([workload(a, b)], T0);
    assert.equal(created!.change, 'created');
    assert.equal(created!.workload.version, 1);
    assert.deepEqual(created!.workload.spec, { v: '1' });
    const [same] = await ctx.catalog.applyWorkloads([workload(a, b)], T0 + 1);
    assert.equal(same!.change, 'unchanged');
    const [updated] = await ctx.catalog.applyWorkloads([workload(a, b, 'db', { v: '2' })], T0 + 2);
    assert.equal(updated!.change, 'updated');
    assert.equal(updated!.workload.version, 2);
    assert.equal(updated!.workload.updatedAt, T0 + 2);
    const fencing = await ctx.catalog.getFencing(created!.workload.id);
    assert.deepEqual(fencing, {
      workloadId: created!.workload.id,
      epoch: 1,
      activeSiteId: a.id,
      changedAt: T0,
    });
    const advanced = await ctx.catalog.advanceFencing(created!.workload.id, b.id, T0 + 3);
    assert.deepEqual([advanced.epoch, advanced.activeSiteId], [2, b.id]);
    assert.deepEqual(
      (await ctx.catalog.listWorkloads({ siteId: b.id })).map((w) => w.name),
      ['db'],
    );
    // Moved off the active site (b): a new epoch for the new primary; a move that keeps
    // the active site among the workload's sites changes no epoch.
    const c = await ctx.catalog.createSite({ vaultId: a.vaultId, name: 'main-c', createdAt: T0 });
    await ctx.catalog.applyWorkloads([workload(a, c, 'db', { v: '2' })], T0 + 4);
    const moved = await ctx.catalog.getFencing(created!.workload.id);
    assert.deepEqual([moved.epoch, moved.activeSiteId, moved.changedAt], [3, a.id, T0 + 4]);
    await ctx.catalog.applyWorkloads([workload(c, a, 'db', { v: '2' })], T0 + 5);
    assert.deepEqual(await ctx.catalog.getFencing(created!.workload.id), moved);
  });

  it('refuses a bad set as a whole and changes nothing', async () => {
    const [a, b] = await twoSites(ctx.catalog);
    const [x] = await twoSites(ctx.catalog, 'other');
    const bad: NewWorkload[][] = [
      [workload(a, b, 'ok'), { ...workload(a, b, 'same'), replicaSiteId: a.id }],
      [workload(a, b, 'ok'), workload(a, b, 'ok')],
      [workload(a, b, 'ok'), { ...workload(a, b, 'cross'), replicaSiteId: x.id }],
    ];
    for (const set of bad) await rejectsWith(ctx.catalog.applyWorkloads(set, T0), 'bad-input', 'BAD_FIELD');
    assert.deepEqual(await ctx.catalog.listWorkloads(), []);
    await ctx.catalog.applyWorkloads([workload(a, b, 'taken')], T0);
    const [y, z] = [x, (await ctx.catalog.listSites({ vaultId: x.vaultId }))[1]!];
    await rejectsWith(
      ctx.catalog.applyWorkloads([workload(y, z, 'taken')], T0),
      'conflict',
      'WORKLOAD_NAME_TAKEN',
    );
  });

  it('records replication health per workload and site with the inventory', async () => {
    const [a, b] = await twoSites(ctx.catalog);
    const w = (await ctx.catalog.applyWorkloads([workload(a, b)], T0))[0]!.workload;
    const health = {
      workloadId: w.id,
      lastPointAt: T0,
      lastPointId: 'p1',
      consistent: true,
      lagMs: 1500,
      error: null,
    };
    await ctx.catalog.recordSiteReport({
      siteId: b.id,
      at: T0 + 1,
      inventory: { host: 'b' },
      health: [health],
    });
    await ctx.catalog.recordSiteReport({
      siteId: b.id,
      at: T0 + 2,
      inventory: { host: 'b' },
      health: [{ ...health, lastPointId: 'p2', consistent: false }],
    });
    assert.deepEqual(await ctx.catalog.listReplicationHealth(w.id), [
      { ...health, siteId: b.id, reportedAt: T0 + 2, lastPointId: 'p2', consistent: false },
    ]);
    const [, other] = await twoSites(ctx.catalog, 'other');
    await rejectsWith(
      ctx.catalog.recordSiteReport({ siteId: other.id, at: T0, inventory: {}, health: [health] }),
      'bad-input',
      'BAD_FIELD',
    );
    assert.equal(await ctx.catalog.findSiteReport(other.id), undefined);
  });
}

export function commandCases(ctx: Context): void {
  it('queues, claims once, resends unfinished ones, and finishes commands of the site only', async () => {
    const [a, b] = await twoSites(ctx.catalog);
    const queued = await ctx.catalog.queueCommand({
      siteId: a.id,
      kind: 'noop',
      payload: { x: 1 },
      createdAt: T0,
    });
    assert.equal(queued.state, 'queued');
    const claim = { now: T0 + 10, resendSentBefore: T0, limit: 10 };
    const [sent] = await ctx.catalog.claimCommands(a.id, claim);
    assert.deepEqual([sent!.id, sent!.state, sent!.sentAt], [queued.id, 'sent', T0 + 10]);
    assert.deepEqual(await ctx.catalog.claimCommands(a.id, { ...claim, now: T0 + 11 }), []);
    assert.equal(
      (await ctx.catalog.claimCommands(a.id, { now: T0 + 99, resendSentBefore: T0 + 50, limit: 1 })).length,
      1,
    );
    await rejectsWith(
      ctx.catalog.finishCommand(queued.id, b.id, { state: 'succeeded', result: {}, at: T0 + 100 }),
      'not-found',
      'COMMAND_NOT_FOUND',
    );
    const done = await ctx.catalog.finishCommand(queued.id, a.id, {
      state: 'succeeded',
      result: { ok: true },
      at: T0 + 100,
    });
    assert.deepEqual([done.state, done.result, done.finishedAt], ['succeeded', { ok: true }, T0 + 100]);
    await rejectsWith(
      ctx.catalog.finishCommand(queued.id, a.id, { state: 'failed', result: {}, at: T0 + 101 }),
      'conflict',
      'COMMAND_FINISHED',
    );
    assert.deepEqual(
      await ctx.catalog.claimCommands(a.id, { now: T0 + 999, resendSentBefore: T0 + 998, limit: 5 }),
      [],
    );
    assert.deepEqual(
      (await ctx.catalog.listCommands(a.id)).map((c) => c.id),
      [queued.id],
    );
    await rejectsWith(
      ctx.catalog.queueCommand({ siteId: a.id, kind: '', payload: {}, createdAt: T0 }),
      'bad-input',
      'BAD_FIELD',
    );
  });
}
