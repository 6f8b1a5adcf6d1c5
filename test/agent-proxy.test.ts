// The agent behind a company proxy: a real tinyproxy with basic authentication, started
// per test in the foreground, and the real CLI. Registration (with the proxy set before
// it), init, backup and restore all go through the proxy — its log shows a tunnel to the
// vault for each command, and none once the proxy is cleared. A wrong password fails with
// 407 naming the proxy, a stopped proxy is named too, and the password appears nowhere.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as wait } from 'node:timers/promises';
import { parseProxyUrl, saveProxy } from '../src/agent/network.ts';
import { vaultClient } from '../src/agent/vault.ts';
import { isRetryable } from '../src/storage/index.ts';
import { type CliResult, lastJson, runCli, tempDir } from './helpers/cli.ts';
import { freePort } from './helpers/ports.ts';
import { compareTrees } from './helpers/tree-compare.ts';
import { makeTree } from './helpers/tree-fixture.ts';
import { startTestVault, type TestVault } from './helpers/vault.ts';

const MiB = 1024 * 1024;
const USER = 'backup-agent';
const PASSWORD = 'Pr0xy-s3cret-never-printed';

type T = Parameters<typeof tempDir>[0];

interface Tinyproxy {
  port: number;
  url: string;
  /** Everything tinyproxy logged so far. */
  log: () => string;
  /** CONNECT requests to `target` (host:port) in its log. */
  tunnelsTo: (target: string) => number;
  stop: () => Promise<void>;
}

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

/** tinyproxy in the foreground (-d) on a free port, allowing CONNECT to `connectPort` only. */
async function startTinyproxy(
  t: T & { after: (fn: () => Promise<void>) => void },
  connectPort: number,
): Promise<Tinyproxy> {
  const dir = await tempDir(t, 'offsite-tinyproxy-');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = join(dir, `tinyproxy-${port}.conf`);
    await writeFile(
      config,
      [
        `Port ${port}`,
        'Listen 127.0.0.1',
        'Timeout 60',
        'LogLevel Connect',
        'MaxClients 50',
        'Allow 127.0.0.1',
        `BasicAuth ${USER} ${PASSWORD}`,
        `ConnectPort ${connectPort}`,
        '',
      ].join('\n'),
    );
    let log = '';
    const child = spawn('/usr/bin/tinyproxy', ['-d', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (log += d));
    child.stderr!.on('data', (d) => (log += d));
    const stop = () => stopped(child);
    t.after(stop);
    for (let i = 0; i < 100 && child.exitCode === null && !(await accepts(port)); i++) await wait(50);
    if (child.exitCode === null && (await accepts(port))) {
      return {
        port,
        url: `http://127.0.0.1:${port}`,
        log: () => log,
        tunnelsTo: (target) => log.split(`CONNECT ${target} HTTP/1.1`).length - 1,
        stop,
      };
    }
    await stop();
    if (attempt === 3) throw new Error(`tinyproxy did not start:\n${log}`);
  }
}

const outputs: string[] = [];

async function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const r = await runCli(args, env);
  outputs.push(r.stdout, r.stderr);
  return r;
}

async function ok(args: string[], env: Record<string, string>) {
  const r = await cli([...args, '--json'], env);
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return lastJson(r);
}

async function failing(args: string[], env: Record<string, string>): Promise<CliResult> {
  const r = await cli(args, env);
  assert.notEqual(r.code, 0, `offsite ${args.join(' ')} should fail: ${r.stdout}`);
  return r;
}

/** A vault "prod", a credentials file for it, and an agent folder with a passphrase. */
async function setUp(t: T & { after: (fn: () => Promise<void>) => void }) {
  const v = await startTestVault(t);
  await ok(['vault', 'create', 'prod', '--region', 'local'], v.env);
  const proxy = await startTinyproxy(t, v.server.port);
  const passwordFile = join(v.dir, 'proxy.pass');
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  const wrongFile = join(v.dir, 'wrong.pass');
  await writeFile(wrongFile, 'not-the-password\n', { mode: 0o600 });
  const env = {
    OFFSITE_AGENT_DIR: join(v.dir, 'agent'),
    OFFSITE_PASSWORD_FILE: join(v.dir, 'repo.pass'),
  };
  await writeFile(env.OFFSITE_PASSWORD_FILE, 'passphrase of web1 long enough\n', { mode: 0o600 });
  return { v, proxy, env, passwordFile, wrongFile, target: `127.0.0.1:${v.server.port}` };
}

async function credentials(v: TestVault, name: string): Promise<string> {
  const file = join(v.dir, `${name}.credentials`);
  await ok(['vault', 'credentials', 'prod', '--out', file], v.env);
  return file;
}

function assertNoPassword() {
  for (const text of outputs) assert.ok(!text.includes(PASSWORD), `the proxy password was printed:\n${text}`);
}

test('register, init, backup and restore go through an authenticating proxy', async (t) => {
  const { v, proxy, env, passwordFile, target } = await setUp(t);
  const set = await ok(
    ['agent', 'proxy', 'set', proxy.url, '--user', USER, '--password-file', passwordFile],
    env,
  );
  assert.deepEqual(set, { url: proxy.url, user: USER });
  const stored = join(env.OFFSITE_AGENT_DIR, 'proxy-password');
  assert.equal((await stat(stored)).mode & 0o777, 0o600);
  assert.equal((await stat(env.OFFSITE_AGENT_DIR)).mode & 0o777, 0o700);
  for (const name of await readdir(env.OFFSITE_AGENT_DIR)) {
    if (name === 'proxy-password') continue;
    const text = await readFile(join(env.OFFSITE_AGENT_DIR, name), 'utf8');
    assert.ok(!text.includes(PASSWORD), `${name} holds the password`);
  }

  let tunnels = proxy.tunnelsTo(target);
  const through = async (what: string, fn: () => Promise<unknown>) => {
    const result = await fn();
    const now = proxy.tunnelsTo(target);
    assert.ok(now > tunnels, `${what} opened no tunnel through the proxy:\n${proxy.log()}`);
    t.diagnostic(`${what}: ${now - tunnels} tunnel(s) through the proxy`);
    tunnels = now;
    return result;
  };

  const file = await credentials(v, 'web1');
  await through('agent register', () =>
    ok(['agent', 'register', '--credentials', file, '--name', 'web1'], env),
  );
  const src = join(v.dir, 'src');
  await makeTree(src, { smallFiles: 50, largeFileBytes: 2 * MiB, seed: 7 });
  await through('init', () => ok(['init'], env));
  const backup = (await through('backup', () => ok(['backup', src], env))) as { point?: { id: string } };
  assert.ok(backup.point?.id, 'the recovery point was committed through the proxy');
  const restored = join(v.dir, 'restored');
  await through('restore', () => ok(['restore', 'latest', '--target', restored], env));
  assert.deepEqual(await compareTrees(src, join(restored, src)), []);
  await through('agent status', () => ok(['agent', 'status'], env));

  const shown = await cli(['agent', 'proxy', 'show'], env);
  assert.match(shown.stdout, new RegExp(`${proxy.url} as ${USER}`));

  // The log is a faithful witness: without the proxy, no tunnel appears in it.
  await ok(['agent', 'proxy', 'clear'], env);
  await ok(['snapshots'], env);
  assert.equal(proxy.tunnelsTo(target), tunnels, 'a cleared proxy is not used');
  assertNoPassword();
});

test('a wrong proxy password fails with 407, naming the proxy and never the password', async (t) => {
  const { v, proxy, env, passwordFile, wrongFile, target } = await setUp(t);
  await ok(['agent', 'proxy', 'set', proxy.url, '--user', USER, '--password-file', wrongFile], env);
  const file = await credentials(v, 'web1');
  const refused = await failing(['agent', 'register', '--credentials', file, '--name', 'web1'], env);
  assert.match(refused.stderr, /407/);
  assert.match(refused.stderr, /proxy authentication failed/);
  assert.match(refused.stderr, new RegExp(`127\\.0\\.0\\.1:${proxy.port}`));
  assert.match(refused.stderr, new RegExp(`user ${USER}`));
  t.diagnostic(refused.stderr.trim());

  // The credentials file was not consumed: with the right password it registers.
  await ok(['agent', 'proxy', 'set', proxy.url, '--user', USER, '--password-file', passwordFile], env);
  await ok(['agent', 'register', '--credentials', file, '--name', 'web1'], env);
  await ok(['init'], env);

  // A registered agent's repository commands fail the same way, at once (not retried).
  await ok(['agent', 'proxy', 'set', proxy.url, '--user', USER, '--password-file', wrongFile], env);
  const snapshots = await failing(['snapshots'], env);
  assert.match(snapshots.stderr, /407/);
  assert.match(snapshots.stderr, new RegExp(`127\\.0\\.0\\.1:${proxy.port}`));
  assert.doesNotMatch(snapshots.stderr, /attempts/);

  // No credentials at all: the proxy's own 407.
  await ok(['agent', 'proxy', 'set', proxy.url], env);
  const anonymous = await failing(['snapshots'], env);
  assert.match(anonymous.stderr, /407/);
  assert.match(anonymous.stderr, /needs a user and password/);
  assert.ok(proxy.tunnelsTo(target) > 0);
  assertNoPassword();
});

test('a stopped proxy is named in the error, for registration and for repository commands', async (t) => {
  const { v, proxy, env, passwordFile } = await setUp(t);
  await ok(['agent', 'proxy', 'set', proxy.url, '--user', USER, '--password-file', passwordFile], env);
  const file = await credentials(v, 'web1');
  await ok(['agent', 'register', '--credentials', file, '--name', 'web1'], env);
  await ok(['init'], env);
  await proxy.stop();

  const name = new RegExp(`cannot reach the proxy 127\\.0\\.0\\.1:${proxy.port}: ECONNREFUSED`);
  const again = await credentials(v, 'web2');
  const other = { ...env, OFFSITE_AGENT_DIR: join(v.dir, 'agent-web2') };
  await ok(['agent', 'proxy', 'set', proxy.url, '--user', USER, '--password-file', passwordFile], other);
  const register = await failing(['agent', 'register', '--credentials', again, '--name', 'web2'], other);
  assert.match(register.stderr, name);
  const snapshots = await failing(['snapshots'], env);
  assert.match(snapshots.stderr, name);
  t.diagnostic(snapshots.stderr.trim());
  assertNoPassword();
});

/** A TCP server on loopback that plays a broken proxy: `answer` gets each connection. */
async function fakeProxy(t: { after: (fn: () => Promise<void>) => void }, answer: (s: Socket) => void) {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    answer(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as { port: number }).port;
}

test('other tunnel failures name the proxy, and are transient only when a retry can help', async (t) => {
  const dir = join(await tempDir(t, 'offsite-agent-'), 'agent');
  const call = async (port: number) => {
    await saveProxy(dir, { url: `127.0.0.1:${port}` });
    const client = vaultClient(dir, { server: 'https://127.0.0.1:9', caPem: '', timeoutMs: 500 });
    const err = await client.call('GET', '/v1/health').then(
      () => assert.fail('no proxy answered, yet the call succeeded'),
      (e: unknown) => e as Error & { code: string },
    );
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`), err.message);
    return { code: err.code, retryable: isRetryable(err), message: err.message };
  };
  const badGateway = await fakeProxy(t, (s) => s.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
  assert.deepEqual(await call(badGateway), {
    code: 'PROXY_TUNNEL_FAILED',
    retryable: true,
    message: `the proxy 127.0.0.1:${badGateway} answered 502 Bad Gateway to a tunnel to 127.0.0.1:9`,
  });
  const forbidden = await fakeProxy(t, (s) => s.end('HTTP/1.0 403 Forbidden\r\n\r\n'));
  assert.equal((await call(forbidden)).code, 'PROXY_REFUSED');
  assert.equal((await call(forbidden)).retryable, false);
  const notAProxy = await fakeProxy(t, (s) => s.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
  assert.equal((await call(notAProxy)).code, 'PROXY_BAD_ANSWER');
  const silent = await fakeProxy(t, () => {});
  const timedOut = await call(silent);
  assert.deepEqual([timedOut.code, timedOut.retryable], ['PROXY_UNREACHABLE', true]);
  assert.match(timedOut.message, /no answer in 500 ms/);
});

test('proxy URLs: http only, no credentials inside, host:port alone is fine', () => {
  assert.deepEqual(parseProxyUrl('proxy.example:3128'), {
    url: 'http://proxy.example:3128',
    host: 'proxy.example',
    port: 3128,
  });
  assert.equal(parseProxyUrl('http://[::1]:8080/').url, 'http://[::1]:8080');
  assert.equal(parseProxyUrl('http://proxy.example').port, 80);
  for (const [url, pattern] of [
    ['http://user:pw@proxy:3128', /must not hold a user or password/],
    ['https://proxy:3128', /over http:\/\//],
    ['socks5://proxy:1080', /over http:\/\//],
    ['http://proxy:3128/path', /without a path/],
    ['http://', /not a proxy URL/],
  ] as const) {
    assert.throws(() => parseProxyUrl(url), { code: 'BAD_PROXY_URL', message: pattern }, url);
  }
});
