import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { describe, it } from 'node:test';
import { SqliteCatalog } from '../catalog/index.ts';
import { deliverDueWebhooks, RETRY_DELAYS_MS } from './delivery.ts';
import { webhookSecretKey } from './sealing.ts';
import { addWebhook } from './webhooks.ts';

const T0 = Date.UTC(2025, 0, 1);
const KEY = webhookSecretKey('-----BEGIN PRIVATE KEY-----\ntest key\n-----END PRIVATE KEY-----\n');
const SECRET = 'a webhook secret of enough length';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

type T = { after: (fn: () => Promise<void> | void) => void };

/** A real HTTP receiver on loopback; `answer` decides each response (status, or hold it). */
async function receiver(t: T, answer: (n: number, res: ServerResponse) => void = (_, res) => res.end()) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      answer(received.length, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

/** A loopback port nothing listens on any more. */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function setup(t: T, url: string, secret: string | null = SECRET) {
  const catalog = SqliteCatalog.memory();
  t.after(() => catalog.close());
  let now = T0;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const vault = await catalog.createVault({ name: 'main', region: 'local', createdAt: T0 });
  const hook = await addWebhook(catalog, vault, { url, secret }, KEY, T0);
  const raise = (message = 'backup of server web failed') =>
    catalog.raiseAlert({
      vaultId: vault.id,
      serverId: null,
      kind: 'backup-failed',
      severity: 'critical',
      message,
      dedupeKey: 'backup-failed:x',
      raisedAt: clock.now(),
    });
  const deliver = () => deliverDueWebhooks(catalog, { key: KEY, now: clock.now, timeoutMs: 2000 });
  return { catalog, vault, hook, clock, raise, deliver };
}

function hmac(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

describe('webhook delivery', () => {
  it('POSTs the alert as JSON, signed with HMAC-SHA256 of the body', async (t) => {
    const r = await receiver(t);
    const { catalog, vault, hook, raise, deliver } = await setup(t, r.url);
    const { alert } = await raise();
    assert.deepEqual(await deliver(), { delivered: 1, retried: 0, abandoned: 0 });
    assert.equal(r.received.length, 1);
    const [got] = r.received;
    assert.equal(got!.headers['content-type'], 'application/json');
    assert.equal(got!.headers['x-offsite-signature'], hmac(SECRET, got!.body));
    const sent = JSON.parse(got!.body);
    assert.equal(sent.vault.name, vault.name);
    assert.deepEqual(
      [sent.alert.id, sent.alert.kind, sent.alert.message],
      [alert.id, 'backup-failed', alert.message],
    );
    assert.equal(got!.headers['x-offsite-delivery'], sent.delivery);
    const [d] = await catalog.listWebhookDeliveries(hook.id);
    assert.deepEqual([d!.state, d!.attempts, d!.lastStatus], ['delivered', 1, 200]);
    assert.deepEqual(await deliver(), { delivered: 0, retried: 0, abandoned: 0 });
    assert.equal(r.received.length, 1, 'a delivered raise is never sent again');
    assert.ok(
      !JSON.stringify(await catalog.getWebhook(hook.id)).includes(SECRET),
      'the catalog holds no clear secret',
    );
  });

  it('sends no signature when the webhook has no secret, and each raise once', async (t) => {
    const r = await receiver(t);
    const { raise, deliver } = await setup(t, r.url, null);
    await raise('first');
    await raise('second');
    await deliver();
    assert.deepEqual(
      r.received.map((x) => [JSON.parse(x.body).alert.message, JSON.parse(x.body).alert.occurrences]).sort(),
      [
        ['first', 1],
        ['second', 2],
      ],
    );
    assert.equal(r.received[0]!.headers['x-offsite-signature'], undefined);
  });

  it('retries after a failure with backoff and delivers once', async (t) => {
    const r = await receiver(t, (n, res) => {
      res.statusCode = n === 1 ? 503 : 204;
      res.end();
    });
    const { catalog, hook, clock, raise, deliver } = await setup(t, r.url);
    await raise();
    assert.deepEqual(await deliver(), { delivered: 0, retried: 1, abandoned: 0 });
    const [waiting] = await catalog.listWebhookDeliveries(hook.id);
    assert.deepEqual(
      [waiting!.state, waiting!.lastStatus, waiting!.lastError, waiting!.nextAttemptAt],
      ['pending', 503, 'answered HTTP 503', T0 + RETRY_DELAYS_MS[0]!],
    );
    clock.advance(RETRY_DELAYS_MS[0]! - 1);
    await deliver();
    assert.equal(r.received.length, 1, 'not before its time');
    clock.advance(1);
    assert.deepEqual(await deliver(), { delivered: 1, retried: 0, abandoned: 0 });
    await deliver();
    assert.equal(r.received.length, 2);
    assert.equal(r.received[0]!.body, r.received[1]!.body, 'a retry sends the same body');
    const [done] = await catalog.listWebhookDeliveries(hook.id);
    assert.deepEqual([done!.state, done!.attempts, done!.lastStatus], ['delivered', 2, 204]);
  });

  it('gives up after the last retry', async (t) => {
    const r = await receiver(t, (_, res) => {
      res.statusCode = 500;
      res.end();
    });
    const { catalog, hook, clock, raise, deliver } = await setup(t, r.url);
    await raise();
    for (const delay of RETRY_DELAYS_MS) {
      await deliver();
      clock.advance(delay);
    }
    assert.deepEqual(await deliver(), { delivered: 0, retried: 0, abandoned: 1 });
    assert.equal(r.received.length, RETRY_DELAYS_MS.length + 1);
    const [d] = await catalog.listWebhookDeliveries(hook.id);
    assert.deepEqual([d!.state, d!.attempts], ['abandoned', RETRY_DELAYS_MS.length + 1]);
    clock.advance(1e10);
    await deliver();
    assert.equal(r.received.length, RETRY_DELAYS_MS.length + 1);
  });

  it('counts a receiver that never answers as a failure after the deadline', async (t) => {
    const r = await receiver(t, () => {});
    const { catalog, hook, raise } = await setup(t, r.url);
    await raise();
    const counts = await deliverDueWebhooks(catalog, { key: KEY, now: () => T0, timeoutMs: 200 });
    assert.deepEqual(counts, { delivered: 0, retried: 1, abandoned: 0 });
    const [d] = await catalog.listWebhookDeliveries(hook.id);
    assert.deepEqual([d!.lastStatus, d!.lastError], [null, 'no answer within 200 ms']);
  });

  it('records a refused connection and retries it', async (t) => {
    const { catalog, hook, raise, deliver } = await setup(t, `http://127.0.0.1:${await closedPort()}/hook`);
    await raise();
    assert.deepEqual(await deliver(), { delivered: 0, retried: 1, abandoned: 0 });
    const [d] = await catalog.listWebhookDeliveries(hook.id);
    assert.deepEqual([d!.state, d!.lastError], ['pending', 'ECONNREFUSED']);
  });

  it('sends a delivery whose sender died mid-request once its claim runs out', async (t) => {
    const r = await receiver(t);
    const { catalog, clock, raise, deliver } = await setup(t, r.url);
    await raise();
    // A sender claims the delivery and dies before recording anything.
    await catalog.claimWebhookDeliveries(T0, T0 + 70_000, 10);
    await deliver();
    assert.equal(r.received.length, 0, 'still claimed');
    clock.advance(70_000);
    assert.deepEqual(await deliver(), { delivered: 1, retried: 0, abandoned: 0 });
  });

  it('keeps a delivery abandoned when its webhook is deleted while the POST is in flight', async (t) => {
    let deleteHook = async () => {};
    const r = await receiver(t, (_, res) => {
      void deleteHook().then(() => res.end());
    });
    const { catalog, hook, raise, deliver } = await setup(t, r.url);
    deleteHook = async () => {
      await catalog.deleteWebhook(hook.id, T0);
    };
    await raise();
    assert.deepEqual(await deliver(), { delivered: 1, retried: 0, abandoned: 0 });
    const [d] = await catalog.listWebhookDeliveries(hook.id);
    assert.deepEqual([d!.state, d!.lastError], ['abandoned', 'the webhook was deleted']);
  });

  it('abandons, without sending, a delivery whose secret can no longer be opened', async (t) => {
    const r = await receiver(t);
    const { catalog, hook, raise } = await setup(t, r.url);
    await raise();
    const otherKey = webhookSecretKey(randomBytes(32).toString('hex'));
    const counts = await deliverDueWebhooks(catalog, { key: otherKey, now: () => T0 });
    assert.deepEqual(counts, { delivered: 0, retried: 0, abandoned: 1 });
    assert.equal(r.received.length, 0);
    const [d] = await catalog.listWebhookDeliveries(hook.id);
    assert.match(d!.lastError!, /cannot be opened/);
  });
});
