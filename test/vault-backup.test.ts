// Backups into a vault end to end, through the CLI, over real HTTPS and mutual TLS: two
// servers registered two ways back up and restore; neither reaches the other's data or
// deletes its own; recovery points are committed with their packs; and when the catalog
// is lost, rebuild-catalog brings every point back from storage alone.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServer } from '../src/server/index.ts';
import { lastJson, runCli } from './helpers/cli.ts';
import { compareTrees } from './helpers/tree-compare.ts';
import { makeTree } from './helpers/tree-fixture.ts';
import { startTestVault, type TestVault } from './helpers/vault.ts';

const MiB = 1024 * 1024;

interface Agent {
  name: string;
  env: Record<string, string>;
}

async function ok(args: string[], env: Record<string, string>) {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return lastJson(r);
}

async function agentByCredentials(v: TestVault, vault: string, name: string): Promise<Agent> {
  const file = join(v.dir, `${name}.credentials`);
  await ok(['vault', 'credentials', vault, '--out', file], v.env);
  const env = {
    OFFSITE_AGENT_DIR: join(v.dir, `agent-${name}`),
    OFFSITE_PASSWORD_FILE: join(v.dir, `${name}.pass`),
  };
  await writeFile(env.OFFSITE_PASSWORD_FILE, `passphrase of ${name} long enough\n`, { mode: 0o600 });
  await ok(['agent', 'register', '--credentials', file, '--name', name], env);
  return { name, env };
}

async function agentByCertificate(v: TestVault, vault: string, name: string): Promise<Agent> {
  const certDir = join(v.dir, `cert-${name}`);
  await ok(['cert', 'create', '--cn', name, '--out', certDir], {});
  await ok(['vault', 'cert', 'upload', vault, join(certDir, 'cert.cer')], v.env);
  const env = {
    OFFSITE_AGENT_DIR: join(v.dir, `agent-${name}`),
    OFFSITE_PASSWORD_FILE: join(v.dir, `${name}.pass`),
    OFFSITE_CA_CERT: v.server.files.caCert,
  };
  await writeFile(env.OFFSITE_PASSWORD_FILE, `passphrase of ${name} long enough\n`, { mode: 0o600 });
  const args = ['agent', 'register', '--server', v.server.url, '--vault', vault, '--name', name];
  await ok([...args, '--cert', join(certDir, 'cert.cer'), '--key', join(certDir, 'key.pem')], env);
  return { name, env };
}

async function backupAndRestore(v: TestVault, agent: Agent, seed: number) {
  const src = join(v.dir, `src-${agent.name}`);
  await makeTree(src, { smallFiles: 200, largeFileBytes: 4 * MiB, seed });
  await ok(['init'], agent.env);
  const backup = await ok(['backup', src], agent.env);
  assert.ok(backup.point?.id, 'the recovery point was committed');
  const target = join(v.dir, `restore-${agent.name}`);
  await ok(['restore', 'latest', '--target', target], agent.env);
  assert.deepEqual(await compareTrees(src, join(target, src)), []);
  return { src, backup };
}

test('two servers back up into one vault and restore, each alone with its own data', async (t) => {
  const v = await startTestVault(t);
  await ok(['vault', 'create', 'prod', '--region', 'local'], v.env);
  const web = await agentByCredentials(v, 'prod', 'web1');
  const db = await agentByCertificate(v, 'prod', 'db1');
  const a = await backupAndRestore(v, web, 1);
  await backupAndRestore(v, db, 2);

  const webSnapshots = await ok(['snapshots'], web.env);
  const dbSnapshots = await ok(['snapshots'], db.env);
  assert.equal(webSnapshots.length, 1);
  assert.equal(dbSnapshots.length, 1);
  assert.notEqual(webSnapshots[0].id, dbSnapshots[0].id);

  for (const command of [['forget', a.backup.id], ['prune']]) {
    const refused = await runCli(command, web.env);
    assert.equal(refused.code, 1, command.join(' '));
    assert.match(refused.stderr, /agents cannot delete history/);
  }

  const servers = await ok(['vault', 'servers', 'prod'], v.env);
  assert.deepEqual(servers.servers.map((s: { name: string }) => s.name).sort(), ['db1', 'web1']);
  const points = (await v.call('/v1/vaults/prod/points')).json();
  assert.equal(points.points.length, 2);
});

test('rebuild-catalog brings back every vault, server and recovery point after the catalog is lost', async (t) => {
  const v = await startTestVault(t);
  await ok(['vault', 'create', 'prod', '--region', 'local', '--quota', '1GiB'], v.env);
  await ok(['vault', 'create', 'test', '--region', 'local'], v.env);
  const web = await agentByCredentials(v, 'prod', 'web1');
  const other = await agentByCredentials(v, 'test', 'app1');
  const { src } = await backupAndRestore(v, web, 3);
  await ok(['backup', src], web.env);
  await backupAndRestore(v, other, 4);
  const before = (await v.call('/v1/vaults/prod/points')).json().points;
  assert.equal(before.length, 2);

  const dataDir = join(v.dir, 'data');
  await v.server.close();
  await rm(join(dataDir, 'catalog.sqlite'), { force: true });
  await rm(join(dataDir, 'catalog.sqlite-wal'), { force: true });
  await rm(join(dataDir, 'catalog.sqlite-shm'), { force: true });
  const again = await startServer({
    dataDir,
    listen: `127.0.0.1:${v.server.port}`,
    regions: v.server.regions,
    log: () => {},
    background: false,
  });
  t.after(() => again.close());
  const empty = await ok(['vault', 'list'], v.env);
  assert.deepEqual(empty.vaults, []);

  const report = await ok(['vault', 'rebuild-catalog'], v.env);
  assert.deepEqual(
    { vaults: report.vaults, servers: report.servers, points: report.points, problems: report.problems },
    { vaults: 2, servers: 2, points: 3, problems: [] },
  );
  const vaults = await ok(['vault', 'list'], v.env);
  assert.deepEqual(
    vaults.vaults.map((x: { name: string }) => x.name),
    ['prod', 'test'],
  );
  assert.equal(vaults.vaults[0].quotaBytes, 1024 * MiB);
  const after = (await v.call('/v1/vaults/prod/points')).json().points;
  assert.deepEqual(
    after.map((p: { id: string; snapshot: string }) => [p.id, p.snapshot]).sort(),
    before.map((p: { id: string; snapshot: string }) => [p.id, p.snapshot]).sort(),
  );
  // The agent's certificate is still pinned: it backs up and restores as before.
  await ok(['backup', src], web.env);
  const target = join(v.dir, 'after-rebuild');
  await ok(['restore', 'latest', '--target', target], web.env);
  assert.deepEqual(await compareTrees(src, join(target, src)), []);
  const second = await ok(['vault', 'rebuild-catalog'], v.env);
  assert.equal(second.points + second.vaults + second.servers, 0, 'a second rebuild adds nothing');
});

test('backups are reported as jobs; a full vault refuses new data with HTTP 507 and a clear message', async (t) => {
  const v = await startTestVault(t);
  await ok(['vault', 'create', 'small', '--region', 'local', '--quota', '2MiB'], v.env);
  const web = await agentByCredentials(v, 'small', 'web1');
  await ok(['init'], web.env);
  const little = join(v.dir, 'little');
  await makeTree(little, { smallFiles: 20, largeFileBytes: 64 * 1024, seed: 5 });
  await ok(['backup', little], web.env);

  const big = join(v.dir, 'big');
  await makeTree(big, { smallFiles: 10, largeFileBytes: 8 * MiB, seed: 6 });
  const full = await runCli(['backup', big], web.env);
  assert.equal(full.code, 1);
  assert.match(full.stderr, /the vault "small" is full/);
  assert.match(full.stderr, /raise the vault quota/);

  const jobs = (await ok(['vault', 'jobs', 'small'], v.env)).jobs as {
    status: string;
    kind: string;
    error: string | null;
  }[];
  assert.deepEqual(
    jobs.map((j) => [j.kind, j.status]),
    [
      ['backup', 'failed'],
      ['backup', 'succeeded'],
    ],
  );
  assert.match(jobs[0]!.error ?? '', /is full/);
  const points = (await v.call('/v1/vaults/small/points')).json().points;
  assert.equal(points.length, 1, 'the refused backup committed nothing');
  const target = join(v.dir, 'r');
  await ok(['restore', 'latest', '--target', target], web.env);
  assert.deepEqual(await compareTrees(little, join(target, little)), []);
});

test('a server that misses its scheduled backup raises an alert; its next backup resolves it', async (t) => {
  const v = await startTestVault(t);
  await ok(['vault', 'create', 'prod', '--region', 'local'], v.env);
  await ok(
    ['vault', 'policy', 'set', 'prod', '--times', '02:00', '--daily', '7', '--time-zone', 'UTC'],
    v.env,
  );
  const web = await agentByCredentials(v, 'prod', 'web1');
  await ok(['init'], web.env);
  const src = join(v.dir, 'src');
  await makeTree(src, { smallFiles: 10, largeFileBytes: 1024, seed: 7 });
  await ok(['backup', src], web.env);
  await v.server.background.runNow('missed-backups');
  const alerts = async () =>
    (await ok(['vault', 'alerts', 'prod', '--all'], v.env)).alerts as { kind: string; state: string }[];
  assert.deepEqual(await alerts(), [], 'backed up just now: nothing is late');

  v.clock.advance(2 * 86_400_000);
  await v.server.background.runNow('missed-backups');
  const late = (await alerts()).filter((a) => a.kind === 'backup-missed');
  assert.equal(late.length, 1);
  assert.equal(late[0]!.state, 'open');
  await v.server.background.runNow('missed-backups');
  assert.equal((await alerts()).length, 1, 'a condition that persists raises nothing new');

  await ok(['backup', src], web.env);
  await v.server.background.runNow('missed-backups');
  assert.deepEqual(
    (await alerts()).map((a) => [a.kind, a.state]),
    [['backup-missed', 'resolved']],
  );
});
