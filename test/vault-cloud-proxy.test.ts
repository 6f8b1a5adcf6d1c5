// An agent behind an authenticating company proxy (a real tinyproxy with basic auth)
// backing up into vaults whose regions are object storage over HTTPS (Azurite and s3rver,
// with a test CA): the pack data goes straight to storage on signed URLs, through a
// CONNECT tunnel of the proxy, as does everything the agent says to the vault; then a
// restore. The proxy's log is the witness: tunnels to the storage service's port.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as wait } from 'node:timers/promises';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { createCertificateAuthority, issueCertificate } from '../src/pki/index.ts';
import { type LogEntry, startServer } from '../src/server/index.ts';
import { type Azurite, startAzurite } from '../src/storage/azure/test-server.ts';
import { type S3rver, startS3rver } from '../src/storage/s3/test-server.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { freePort } from './helpers/ports.ts';
import { compareTrees } from './helpers/tree-compare.ts';
import { makeTree } from './helpers/tree-fixture.ts';

const USER = 'backup-agent';
const PASSWORD = 'Pr0xy-cl0ud-s3cret-never-printed';

type T = Parameters<typeof tempDir>[0] & { after: (fn: () => Promise<void>) => void };

let azurite: Azurite;
let s3: S3rver;
let caFile: string;
let tlsDir: string;

/** A CA and a server certificate for 127.0.0.1, trusted by this process and its children. */
async function testTls(dir: string) {
  const ca = createCertificateAuthority({ commonName: 'offsite test storage CA', validDays: 2 });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cert = issueCertificate({
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    publicKey,
    commonName: '127.0.0.1',
    usage: 'server',
    ipAddresses: ['127.0.0.1'],
    validDays: 2,
  });
  const files = { certFile: join(dir, 'storage.pem'), keyFile: join(dir, 'storage-key.pem') };
  await writeFile(files.certFile, cert);
  await writeFile(files.keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await writeFile(join(dir, 'ca.pem'), ca.certPem);
  // The vault server runs in this process: its SDKs verify storage with the default CAs.
  setDefaultCACertificates([...getCACertificates('default'), ca.certPem]);
  return files;
}

before(async () => {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  tlsDir = await mkdtemp(join(tmpdir(), 'offsite-cloud-proxy-tls-'));
  const tls = await testTls(tlsDir);
  caFile = join(tlsDir, 'ca.pem');
  [azurite, s3] = await Promise.all([startAzurite({ tls }), startS3rver({ tls })]);
  Object.assign(process.env, azurite.env, s3.env);
});
after(async () => {
  await Promise.all([azurite?.stop(), s3?.stop()]);
  const { rm } = await import('node:fs/promises');
  if (tlsDir) await rm(tlsDir, { recursive: true, force: true });
});

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** tinyproxy in the foreground with basic auth, allowing CONNECT to `ports` only. */
async function startTinyproxy(t: T, ports: number[]) {
  const dir = await tempDir(t, 'offsite-tinyproxy-');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = join(dir, `tinyproxy-${port}.conf`);
    const lines = [`Port ${port}`, 'Listen 127.0.0.1', 'Timeout 60', 'LogLevel Connect', 'MaxClients 50'];
    lines.push(
      'Allow 127.0.0.1',
      `BasicAuth ${USER} ${PASSWORD}`,
      ...ports.map((p) => `ConnectPort ${p}`),
      '',
    );
    await writeFile(config, lines.join('\n'));
    let log = '';
    const child = spawn('/usr/bin/tinyproxy', ['-d', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (log += d));
    child.stderr!.on('data', (d) => (log += d));
    t.after(() => stopped(child));
    for (let i = 0; i < 100 && child.exitCode === null && !(await accepts(port)); i++) await wait(50);
    if (child.exitCode === null && (await accepts(port))) {
      return {
        url: `http://127.0.0.1:${port}`,
        log: () => log,
        tunnelsTo: (target: string) => log.split(`CONNECT ${target} HTTP/1.1`).length - 1,
      };
    }
    await stopped(child);
    if (attempt === 3) throw new Error(`tinyproxy did not start:\n${log}`);
  }
}

async function ok(args: string[], env: Record<string, string>) {
  const r = await runCli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  assert.ok(!`${r.stdout}${r.stderr}`.includes(PASSWORD), 'the proxy password was printed');
  return lastJson(r);
}

const backends = [
  { name: 'Azure Blob (Azurite, HTTPS)', region: async () => azurite.url(await azurite.newContainer()) },
  { name: 'S3 (s3rver, HTTPS)', region: async () => s3.url(await s3.newBucket()) },
];

for (const backend of backends) {
  test(`${backend.name}: pack data goes straight to storage through the proxy, then restores`, async (t) => {
    const dir = await tempDir(t, 'offsite-cloud-proxy-');
    const regionUrl = await backend.region();
    const storagePort = Number(new URL(new URL(regionUrl).searchParams.get('endpoint')!).port);
    const logs: LogEntry[] = [];
    const server = await startServer({
      dataDir: join(dir, 'data'),
      listen: '127.0.0.1:0',
      regions: [{ name: 'cloud', url: regionUrl }],
      log: (e) => logs.push(e),
      background: false,
    });
    t.after(() => server.close());
    const admin = {
      OFFSITE_SERVER: server.url,
      OFFSITE_CA_CERT: server.files.caCert,
      OFFSITE_TOKEN: (await readFile(server.files.adminToken, 'utf8')).trim(),
    };
    const proxy = await startTinyproxy(t, [server.port, storagePort]);
    await ok(['vault', 'create', 'prod', '--region', 'cloud'], admin);
    await ok(['vault', 'credentials', 'prod', '--out', join(dir, 'c.json')], admin);
    const agent = {
      OFFSITE_AGENT_DIR: join(dir, 'agent'),
      OFFSITE_PASSWORD_FILE: join(dir, 'pass'),
      // The agent trusts the storage service's certificate as it would a public one.
      NODE_EXTRA_CA_CERTS: caFile,
    };
    await writeFile(agent.OFFSITE_PASSWORD_FILE, 'a passphrase behind a proxy\n');
    const proxyPassword = join(dir, 'proxy.pass');
    await writeFile(proxyPassword, `${PASSWORD}\n`, { mode: 0o600 });
    await ok(['agent', 'proxy', 'set', proxy.url, '--user', USER, '--password-file', proxyPassword], agent);
    await ok(['agent', 'register', '--credentials', join(dir, 'c.json'), '--name', 'web1'], agent);
    await ok(['init'], agent);

    const src = join(dir, 'src');
    await makeTree(src, { smallFiles: 30, largeFileBytes: 3 * 1024 * 1024, seed: 5 });
    const storage = `127.0.0.1:${storagePort}`;
    assert.equal(proxy.tunnelsTo(storage), 0);
    await ok(['backup', src], agent);
    const toStorage = proxy.tunnelsTo(storage);
    assert.ok(toStorage > 0, `no tunnel to the storage service ${storage}:\n${proxy.log()}`);
    assert.ok(proxy.tunnelsTo(`127.0.0.1:${server.port}`) > 0, 'the vault is reached through the proxy too');
    const requests = (method: string, part: string) =>
      logs.filter((e) => e.msg === 'request' && e.method === method && String(e.path).includes(part));
    assert.deepEqual(requests('PUT', '/v1/agent/repo/objects/data/'), [], 'no pack went through the vault');
    const completes = requests('POST', '/v1/agent/repo/uploads/complete');
    assert.ok(completes.length > 0 && completes.every((e) => e.status === 201), 'packs were uploaded direct');
    t.diagnostic(`${toStorage} tunnel(s) to storage, ${completes.length} packs uploaded direct`);

    const target = join(dir, 'restored');
    await ok(['restore', 'latest', '--target', target], agent);
    assert.deepEqual(await compareTrees(src, join(target, src)), []);
  });
}
