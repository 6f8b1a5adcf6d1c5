import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSelfSignedClientCertificate } from '../../pki/index.ts';
import { type Assignment, executeCommand } from './commands.ts';
import { runProbe } from './probe.ts';
import { readSiteCredentialsFile } from './register.ts';
import { renewalDue } from './renew.ts';
import { readReplicationHealth } from './run.ts';
import { loadSiteAgentState, requireSiteAgentState, saveSiteAgentState, siteAgentFiles } from './state.ts';

// The site agent's pieces on this machine: probes against real sockets and processes,
// commands, its state folder and credentials files.

async function temp(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'offsite-site-agent-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function listening(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () => done((server.address() as { port: number }).port)),
  );
}

function closed(server: Server | ReturnType<typeof createHttpServer>): Promise<void> {
  return new Promise((done) => server.close(() => done()));
}

describe('health probes', () => {
  it('tcp: healthy when the port accepts, not when nothing listens', async () => {
    const server = createServer((s) => s.end());
    const port = await listening(server);
    const up = await runProbe({ type: 'tcp', host: '127.0.0.1', port, timeoutMs: 2000 });
    assert.equal(up.healthy, true, up.detail);
    await closed(server);
    const down = await runProbe({ type: 'tcp', host: '127.0.0.1', port, timeoutMs: 2000 });
    assert.equal(down.healthy, false);
    assert.match(down.detail, /ECONNREFUSED/);
  });

  it('http: healthy only with the expected status', async () => {
    const server = createHttpServer((req, res) => {
      res.statusCode = req.url === '/ok' ? 200 : 503;
      res.end();
    });
    const port = await listening(server);
    try {
      const base = `http://127.0.0.1:${port}`;
      assert.equal(
        (await runProbe({ type: 'http', url: `${base}/ok`, expectStatus: 200, timeoutMs: 2000 })).healthy,
        true,
      );
      const sick = await runProbe({ type: 'http', url: `${base}/sick`, expectStatus: 200, timeoutMs: 2000 });
      assert.equal(sick.healthy, false);
      assert.match(sick.detail, /HTTP 503, expected 200/);
    } finally {
      await closed(server);
    }
  });

  it('command: healthy on exit 0; a failure or a timeout is not', async () => {
    assert.equal((await runProbe({ type: 'command', command: 'exit 0', timeoutMs: 2000 })).healthy, true);
    const failed = await runProbe({ type: 'command', command: 'exit 3', timeoutMs: 2000 });
    assert.deepEqual([failed.healthy, failed.detail], [false, 'the probe command exited 3']);
    const slow = await runProbe({ type: 'command', command: 'sleep 5', timeoutMs: 200 });
    assert.equal(slow.healthy, false);
    assert.match(slow.detail, /stopped \(SIGTERM, timeout 200 ms\)/);
  });
});

describe('commands', () => {
  const app: Assignment = {
    name: 'app',
    version: 1,
    role: 'primary',
    fencingEpoch: 1,
    activeSite: 'dc1',
    primarySite: 'dc1',
    replicaSite: 'dc2',
    spec: { health: { type: 'command', command: 'exit 1', timeoutMs: 2000 } },
  };

  it('runs noop, probes assigned workloads only, and refuses unknown kinds', async () => {
    assert.equal((await executeCommand({ id: '1', kind: 'noop', payload: {} }, [])).state, 'succeeded');
    const sick = await executeCommand({ id: '2', kind: 'probe', payload: { workload: 'app' } }, [app]);
    assert.equal(sick.state, 'failed');
    assert.equal(sick.result.healthy, false);
    const elsewhere = await executeCommand({ id: '3', kind: 'probe', payload: { workload: 'db' } }, [app]);
    assert.match(elsewhere.result.steps[0]!.detail, /not assigned to this site/);
    const unknown = await executeCommand({ id: '4', kind: 'failover', payload: {} }, [app]);
    assert.equal(unknown.state, 'failed');
    assert.match(
      unknown.result.steps[0]!.detail,
      /UNKNOWN_KIND: this site agent does not run commands of kind "failover"/,
    );
  });
});

describe('site agent state', () => {
  it('keeps key and certificate 0600 in a 0700 folder, and reads them back', async (t) => {
    const dir = join(await temp(t), 'agent');
    assert.equal(await loadSiteAgentState(dir), undefined);
    await assert.rejects(requireSiteAgentState(dir), { code: 'SITE_AGENT_NOT_REGISTERED' });
    const state = {
      dir,
      info: {
        version: 1 as const,
        server: 'https://x',
        site: { id: 's', name: 'dc1' },
        vault: { id: 'v', name: 'dr' },
        registeredAt: '2026-01-01T00:00:00.000Z',
      },
      caPem: 'CA',
      certPem: 'CERT',
      keyPem: 'KEY',
    };
    await saveSiteAgentState(state);
    assert.deepEqual(await loadSiteAgentState(dir), state);
    const files = siteAgentFiles(dir);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    for (const file of [files.key, files.cert, files.info])
      assert.equal((await stat(file)).mode & 0o777, 0o600);
    await rm(files.key);
    await assert.rejects(loadSiteAgentState(dir), { code: 'SITE_AGENT_STATE_DAMAGED' });
  });

  it('reads the replication health the data plane left, none as []', async (t) => {
    const dir = await temp(t);
    assert.deepEqual(await readReplicationHealth(dir), []);
    await writeFile(siteAgentFiles(dir).replicationHealth, '[{"workload":"app","consistent":true}]');
    assert.deepEqual(await readReplicationHealth(dir), [{ workload: 'app', consistent: true }]);
    // The data plane's own form (../replication ReplicationHealth) is translated.
    const dataPlane = {
      workload: 'db',
      state: 'failing',
      lastPoint: { id: 'p9', time: '2026-01-01T00:00:00.000Z', consistency: 'app-consistent' },
      lastConsistentPoint: null,
      lagSeconds: 42,
      lastAttemptAt: null,
      lastError: { code: 'REPLICA_UNREACHABLE', message: 'no route', at: '2026-01-01T00:01:00.000Z' },
      running: false,
    };
    await writeFile(siteAgentFiles(dir).replicationHealth, JSON.stringify([dataPlane, 'junk']));
    assert.deepEqual(await readReplicationHealth(dir), [
      {
        workload: 'db',
        lastPointAt: '2026-01-01T00:00:00.000Z',
        lastPointId: 'p9',
        consistent: true,
        lagMs: 42_000,
        error: 'REPLICA_UNREACHABLE: no route',
      },
    ]);
  });

  it('accepts only an unexpired site credentials file', async (t) => {
    const dir = await temp(t);
    const path = join(dir, 'creds.json');
    const file = {
      kind: 'offsite-site-credentials',
      version: 1,
      server: 'https://x',
      site: { id: 's', name: 'dc1' },
      vault: { id: 'v', name: 'dr' },
      caPem: 'CA',
      secret: 'secret',
      expiresAt: '2026-01-03T00:00:00.000Z',
    };
    await writeFile(path, JSON.stringify(file));
    assert.equal((await readSiteCredentialsFile(path, Date.UTC(2026, 0, 1))).site.name, 'dc1');
    await assert.rejects(readSiteCredentialsFile(path, Date.UTC(2026, 0, 4)), {
      code: 'SITE_CREDENTIALS_EXPIRED',
    });
    await writeFile(path, JSON.stringify({ ...file, kind: 'offsite-vault-credentials' }));
    await assert.rejects(readSiteCredentialsFile(path, Date.UTC(2026, 0, 1)), {
      code: 'NOT_SITE_CREDENTIALS_FILE',
    });
    await assert.rejects(readSiteCredentialsFile(join(dir, 'missing'), 0), { code: 'FILE_UNREADABLE' });
  });
});

describe('certificate renewal', () => {
  it('is due when a third of the life is left', () => {
    const start = Date.UTC(2026, 0, 1);
    const { certPem } = createSelfSignedClientCertificate({
      commonName: 'x',
      validDays: 90,
      now: new Date(start),
    });
    const day = 86_400_000;
    assert.equal(renewalDue(certPem, start + 59 * day), false);
    assert.equal(renewalDue(certPem, start + 61 * day), true);
  });
});
