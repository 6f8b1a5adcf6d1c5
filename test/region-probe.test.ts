// `offsite agent regions --probe` end to end: a vault server with a filesystem region and
// an Azurite region behind a TCP relay that delays every chunk, a registered agent on
// this machine; the probe reports the delayed region as slower in latency, upload and
// download, the vault keeps the result, and no probe object is left in either region.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { saveAgentState } from '../src/agent/index.ts';
import { startServer } from '../src/server/index.ts';
import { startAzurite } from '../src/storage/azure/test-server.ts';
import { openStore } from '../src/storage/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { https } from './helpers/https.ts';
import { agentStateOf, registerTestAgent, type TestVault, testClock } from './helpers/vault.ts';

const DELAY_MS = 40;

/** Forwards TCP to a port, each chunk in each direction held DELAY_MS after the one before. */
async function delayRelay(targetPort: number): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const pipe = (from: Socket, to: Socket) => {
    let queue = Promise.resolve();
    from.on('data', (chunk) => {
      from.pause();
      queue = queue
        .then(() => new Promise((r) => setTimeout(r, DELAY_MS)))
        .then(() => {
          if (!to.destroyed) to.write(chunk);
          from.resume();
        });
    });
    from.on('end', () => void queue.then(() => to.end()));
  };
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

async function collect(listing: AsyncIterable<{ name: string }>): Promise<string[]> {
  const names: string[] = [];
  for await (const o of listing) names.push(o.name);
  return names;
}

test('a probe reports the delayed cloud region as slower, keeps the result and leaves no object', async (t) => {
  const azurite = await startAzurite();
  t.after(() => azurite.stop());
  Object.assign(process.env, azurite.env);
  const relay = await delayRelay(Number(new URL(azurite.serviceUrl).port));
  t.after(() => relay.close());
  const container = await azurite.newContainer();
  const slowEndpoint = azurite.serviceUrl.replace(/:\d+\//, `:${relay.port}/`);
  const farUrl = azurite.url(container).replace(azurite.serviceUrl, slowEndpoint);

  const dir = await tempDir(t, 'offsite-probe-');
  const clock = testClock();
  const server = await startServer({
    dataDir: join(dir, 'data'),
    listen: '127.0.0.1:0',
    regions: [
      { name: 'near', url: `file://${join(dir, 'near')}` },
      { name: 'far', url: farUrl },
    ],
    log: () => {},
    now: clock.now,
    background: false,
  });
  t.after(() => server.close());
  const v = { server, clock, dir } as unknown as TestVault;
  const agent = await registerTestAgent(v, 'prod', 'web-1');
  const state = agentStateOf(v, agent, join(dir, 'agent'));
  await saveAgentState(state);
  const env = { OFFSITE_AGENT_DIR: state.dir };

  const listed = await runCli(['agent', 'regions', '--json'], env);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(lastJson(listed).regions, [
    { name: 'near', kind: 'file', role: 'primary' },
    { name: 'far', kind: 'azure', role: null },
  ]);

  const probed = await runCli(
    ['agent', 'regions', '--probe', '--probe-bytes', String(1024 * 1024), '--json'],
    env,
  );
  assert.equal(probed.code, 0, probed.stderr);
  const { probes } = lastJson(probed);
  const near = probes.find((p: { region: string }) => p.region === 'near');
  const far = probes.find((p: { region: string }) => p.region === 'far');
  assert.deepEqual([near.error, far.error, near.bytes], [null, null, 1024 * 1024]);
  assert.ok(far.latencyMs > near.latencyMs, `latency: far ${far.latencyMs} ms, near ${near.latencyMs} ms`);
  assert.ok(far.uploadBytesPerSecond < near.uploadBytesPerSecond, 'upload is slower to the far region');
  assert.ok(
    far.downloadBytesPerSecond < near.downloadBytesPerSecond,
    'download is slower from the far region',
  );

  const token = (await readFile(server.files.adminToken, 'utf8')).trim();
  const kept = await https(server.caPem, `${server.url}/v1/vaults/prod/probes`, { token });
  assert.equal(kept.status, 200, kept.text);
  const [probe] = kept.json().probes;
  assert.equal(probe.server, 'web-1');
  assert.deepEqual(
    probe.regions.map((r: { region: string }) => r.region),
    ['near', 'far'],
  );

  const nearFiles = await readdir(join(dir, 'near'), { recursive: true, withFileTypes: true });
  assert.deepEqual(
    nearFiles.filter((f) => f.isFile()).map((f) => f.name),
    [],
    'no probe object left in the file region',
  );
  assert.deepEqual(await collect(openStore(azurite.url(container)).list('')), [], 'none in the Azure region');
});
