import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { AlertSeverity, Catalog, NewAlert } from '../types.ts';
import { type Context, HOUR, makeServer, makeVault, rejectsWith, T0 } from './context.ts';

export function jobCases(ctx: Context): void {
  it('creates a running job, records progress, then finishes it once', async () => {
    const vault = await makeVault(ctx.catalog);
    const server = await makeServer(ctx.catalog, vault.id);
    const job = await ctx.catalog.createJob({
      vaultId: vault.id,
      serverId: server.id,
      kind: 'backup',
      startedAt: T0,
    });
    assert.deepEqual(job, {
      id: job.id,
      vaultId: vault.id,
      serverId: server.id,
      kind: 'backup',
      status: 'running',
      startedAt: T0,
      endedAt: null,
      bytes: 0,
      error: null,
      skippedFiles: [],
      skippedCount: 0,
    });
    const progress = await ctx.catalog.updateJob(job.id, { bytes: 5000 });
    assert.deepEqual(progress, { ...job, bytes: 5000 });
    const skipped = [{ path: '/etc/shadow', reason: 'permission denied' }, '/tmp/sock'];
    const done = await ctx.catalog.updateJob(job.id, {
      status: 'warning',
      endedAt: T0 + HOUR,
      bytes: 9000,
      error: '2 files skipped',
      skippedFiles: skipped,
    });
    assert.deepEqual(done, {
      ...job,
      status: 'warning',
      endedAt: T0 + HOUR,
      bytes: 9000,
      error: '2 files skipped',
      skippedFiles: skipped,
      skippedCount: 2,
    });
    assert.deepEqual(await ctx.catalog.getJob(job.id), done);
    await rejectsWith(ctx.catalog.updateJob(job.id, { bytes: 1 }), 'conflict', 'JOB_FINISHED');
  });

  it('counts every skipped file while keeping the list it is given', async () => {
    const vault = await makeVault(ctx.catalog);
    const job = await ctx.catalog.createJob({
      vaultId: vault.id,
      serverId: null,
      kind: 'backup',
      startedAt: T0,
    });
    const listed = await ctx.catalog.updateJob(job.id, { skippedFiles: ['/a', '/b'] });
    assert.equal(listed.skippedCount, 2);
    assert.equal((await ctx.catalog.updateJob(job.id, { bytes: 5 })).skippedCount, 2);
    const cut = await ctx.catalog.updateJob(job.id, { skippedFiles: ['/a'], skippedCount: 5000 });
    assert.deepEqual([cut.skippedFiles, cut.skippedCount], [['/a'], 5000]);
    await rejectsWith(
      ctx.catalog.updateJob(job.id, { skippedFiles: ['/a', '/b'], skippedCount: 1 }),
      'bad-input',
      'BAD_FIELD',
    );
    assert.deepEqual(await ctx.catalog.getJob(job.id), cut);
  });

  it('requires an end time exactly when a job ends, not before its start', async () => {
    const vault = await makeVault(ctx.catalog);
    const job = await ctx.catalog.createJob({
      vaultId: vault.id,
      serverId: null,
      kind: 'verify',
      startedAt: T0,
    });
    await rejectsWith(ctx.catalog.updateJob(job.id, { status: 'failed' }), 'bad-input', 'BAD_FIELD');
    await rejectsWith(ctx.catalog.updateJob(job.id, { endedAt: T0 + 1 }), 'bad-input', 'BAD_FIELD');
    const early = { status: 'succeeded' as const, endedAt: T0 - 1 };
    await rejectsWith(ctx.catalog.updateJob(job.id, early), 'bad-input', 'BAD_FIELD');
    assert.deepEqual(await ctx.catalog.getJob(job.id), job);
    const failed = await ctx.catalog.updateJob(job.id, {
      status: 'failed',
      endedAt: T0 + 1,
      error: 'disk full',
    });
    assert.deepEqual([failed.status, failed.error], ['failed', 'disk full']);
  });

  it('lists a vault’s jobs newest first, limited, optionally for one server', async () => {
    const vault = await makeVault(ctx.catalog);
    const other = await makeVault(ctx.catalog, 'other');
    const web = await makeServer(ctx.catalog, vault.id, 'web');
    for (let i = 0; i < 5; i++) {
      const serverId = i % 2 === 0 ? web.id : null;
      await ctx.catalog.createJob({ vaultId: vault.id, serverId, kind: `k${i}`, startedAt: T0 + i });
    }
    await ctx.catalog.createJob({ vaultId: other.id, serverId: null, kind: 'elsewhere', startedAt: T0 + 9 });
    const kinds = async (options?: { limit?: number; serverId?: string }) =>
      (await ctx.catalog.listJobs(vault.id, options)).map((j) => j.kind);
    assert.deepEqual(await kinds(), ['k4', 'k3', 'k2', 'k1', 'k0']);
    assert.deepEqual(await kinds({ limit: 2 }), ['k4', 'k3']);
    assert.deepEqual(await kinds({ serverId: web.id }), ['k4', 'k2', 'k0']);
    await rejectsWith(ctx.catalog.listJobs(vault.id, { limit: 0 }), 'bad-input', 'BAD_FIELD');
  });

  it('refuses jobs of unknown vaults and of servers from another vault', async () => {
    const vault = await makeVault(ctx.catalog);
    const other = await makeVault(ctx.catalog, 'other');
    const stranger = await makeServer(ctx.catalog, other.id);
    const input = { vaultId: vault.id, serverId: stranger.id, kind: 'backup', startedAt: T0 };
    await rejectsWith(ctx.catalog.createJob(input), 'not-found', 'SERVER_NOT_FOUND');
    await rejectsWith(ctx.catalog.createJob({ ...input, vaultId: 'nope' }), 'not-found', 'VAULT_NOT_FOUND');
    await rejectsWith(ctx.catalog.getJob('nope'), 'not-found', 'JOB_NOT_FOUND');
    await rejectsWith(ctx.catalog.updateJob('nope', {}), 'not-found', 'JOB_NOT_FOUND');
  });
}

export function alertCases(ctx: Context): void {
  const raise = (
    c: Catalog,
    vaultId: string,
    dedupeKey: string,
    at: number,
    severity: AlertSeverity = 'warning',
  ) => {
    const input: NewAlert = {
      vaultId,
      serverId: null,
      kind: 'quota',
      severity,
      message: `at ${at}`,
      dedupeKey,
      raisedAt: at,
    };
    return c.raiseAlert(input);
  };

  it('raises an alert once per open key, counting repeats', async () => {
    const vault = await makeVault(ctx.catalog);
    const first = await raise(ctx.catalog, vault.id, 'quota-80', T0);
    assert.equal(first.created, true);
    assert.deepEqual(first.alert, {
      id: first.alert.id,
      vaultId: vault.id,
      serverId: null,
      kind: 'quota',
      severity: 'warning',
      message: `at ${T0}`,
      dedupeKey: 'quota-80',
      raisedAt: T0,
      lastRaisedAt: T0,
      occurrences: 1,
      acknowledgedAt: null,
      resolvedAt: null,
    });
    const again = await raise(ctx.catalog, vault.id, 'quota-80', T0 + HOUR, 'critical');
    assert.equal(again.created, false);
    assert.deepEqual(again.alert, {
      ...first.alert,
      severity: 'critical',
      message: `at ${T0 + HOUR}`,
      lastRaisedAt: T0 + HOUR,
      occurrences: 2,
    });
    assert.equal((await ctx.catalog.listAlerts(vault.id, { openOnly: true })).length, 1);
  });

  it('keeps de-duplicating after acknowledgement and starts afresh after resolution', async () => {
    const vault = await makeVault(ctx.catalog);
    const { alert } = await raise(ctx.catalog, vault.id, 'k', T0);
    const acked = await ctx.catalog.acknowledgeAlert(alert.id, T0 + 1);
    assert.equal(acked.acknowledgedAt, T0 + 1);
    assert.equal((await ctx.catalog.acknowledgeAlert(alert.id, T0 + 2)).acknowledgedAt, T0 + 1);
    assert.equal((await raise(ctx.catalog, vault.id, 'k', T0 + 3)).created, false);
    const resolved = await ctx.catalog.resolveAlert(alert.id, T0 + 4);
    assert.equal(resolved.resolvedAt, T0 + 4);
    assert.equal((await ctx.catalog.resolveAlert(alert.id, T0 + 5)).resolvedAt, T0 + 4);
    assert.deepEqual(await ctx.catalog.listAlerts(vault.id, { openOnly: true }), []);
    const fresh = await raise(ctx.catalog, vault.id, 'k', T0 + 6);
    assert.equal(fresh.created, true);
    assert.notEqual(fresh.alert.id, alert.id);
    const all = await ctx.catalog.listAlerts(vault.id);
    assert.deepEqual(
      all.map((a) => a.id),
      [fresh.alert.id, alert.id],
    );
    assert.deepEqual(await ctx.catalog.getAlert(alert.id), resolved);
  });

  it('finds the open alert of a key, and none once it is resolved', async () => {
    const vault = await makeVault(ctx.catalog);
    const other = await makeVault(ctx.catalog, 'other');
    const { alert } = await raise(ctx.catalog, vault.id, 'k', T0);
    await raise(ctx.catalog, other.id, 'j', T0);
    assert.deepEqual(await ctx.catalog.findOpenAlert(vault.id, 'k'), alert);
    assert.equal(await ctx.catalog.findOpenAlert(vault.id, 'j'), undefined);
    assert.equal(await ctx.catalog.findOpenAlert(other.id, 'k'), undefined);
    await ctx.catalog.resolveAlert(alert.id, T0 + 1);
    assert.equal(await ctx.catalog.findOpenAlert(vault.id, 'k'), undefined);
  });

  it('keeps keys apart per vault and per key', async () => {
    const vault = await makeVault(ctx.catalog);
    const other = await makeVault(ctx.catalog, 'other');
    const server = await makeServer(ctx.catalog, vault.id);
    assert.equal((await raise(ctx.catalog, vault.id, 'a', T0)).created, true);
    assert.equal((await raise(ctx.catalog, vault.id, 'b', T0)).created, true);
    assert.equal((await raise(ctx.catalog, other.id, 'a', T0)).created, true);
    const serverAlert = await ctx.catalog.raiseAlert({
      vaultId: vault.id,
      serverId: server.id,
      kind: 'missed-backup',
      severity: 'critical',
      message: 'no backup for 2 days',
      dedupeKey: `missed:${server.id}`,
      raisedAt: T0,
    });
    assert.equal(serverAlert.alert.serverId, server.id);
    assert.equal((await ctx.catalog.listAlerts(vault.id)).length, 3);
  });

  it('refuses bad severities, unknown alerts and servers of another vault', async () => {
    const vault = await makeVault(ctx.catalog);
    await rejectsWith(
      raise(ctx.catalog, vault.id, 'k', T0, 'dire' as AlertSeverity),
      'bad-input',
      'BAD_FIELD',
    );
    await rejectsWith(ctx.catalog.acknowledgeAlert('nope', T0), 'not-found', 'ALERT_NOT_FOUND');
    await rejectsWith(ctx.catalog.resolveAlert('nope', T0), 'not-found', 'ALERT_NOT_FOUND');
    const other = await makeVault(ctx.catalog, 'other');
    const stranger = await makeServer(ctx.catalog, other.id);
    const input: NewAlert = {
      vaultId: vault.id,
      serverId: stranger.id,
      kind: 'k',
      severity: 'info',
      message: 'm',
      dedupeKey: 'k',
      raisedAt: T0,
    };
    await rejectsWith(ctx.catalog.raiseAlert(input), 'not-found', 'SERVER_NOT_FOUND');
    assert.deepEqual(await ctx.catalog.listAlerts(vault.id), []);
  });
}
