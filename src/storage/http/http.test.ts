// HttpBlobStore against a real vault server on loopback (HTTPS, mutual TLS, real files,
// real SQLite): the whole BlobStore contract, then what is particular to talking HTTP.
import assert from 'node:assert/strict';
import { Agent } from 'node:https';
import { createServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { registerTestAgent, startTestVault, type TestVault } from '../../../test/helpers/vault.ts';
import { AuthError, ConflictError, QuotaError, TransientError } from '../../errors/index.ts';
import { createCertificateAuthority } from '../../pki/index.ts';
import { SqliteCatalog } from '../../vault/catalog/index.ts';
import { repoPrefix } from '../../vault/layout.ts';
import { blobStoreConformance, collect } from '../conformance.ts';
import { MAX_NAME_LENGTH } from '../names.ts';
import type { BlobStore } from '../types.ts';
import { RetryStore } from '../wrappers/index.ts';
import { HttpBlobStore } from './index.ts';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});
const suite = { after: (fn: () => Promise<void>) => cleanups.push(fn) };

let shared: Promise<TestVault> | undefined;
let agents = 0;

/** One vault server for the file; each store is a new agent, so it starts empty. */
async function agentStore(vaultName = 'conformance') {
  shared ??= startTestVault(suite);
  const v = await shared;
  const agent = await registerTestAgent(v, vaultName, `agent-${++agents}`);
  const store = new HttpBlobStore({
    url: v.server.url,
    caPem: v.server.caPem,
    certPem: agent.certPem,
    keyPem: agent.keyPem,
  });
  return { v, agent, store };
}

const prefixLength = repoPrefix(
  '00000000-0000-0000-0000-000000000000',
  '00000000-0000-0000-0000-000000000000',
).length;

blobStoreConformance(
  'HttpBlobStore',
  async () => {
    const { store } = await agentStore();
    return { store, cleanup: async () => store.close() };
  },
  {
    maxNameLength: MAX_NAME_LENGTH - prefixLength,
    deletesOnlyUnder: { prefix: 'sessions/', refusal: { type: AuthError, code: 'FORBIDDEN' } },
  },
);

/** A port nothing listens on: bound, then closed. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('HttpBlobStore over HTTP', () => {
  it('names the server as its location, never a secret', async () => {
    const { v, agent, store } = await agentStore();
    assert.equal(store.location, v.server.url);
    assert.ok(!store.location.includes(agent.keyPem.slice(40, 80)));
    store.close();
  });

  it('refuses a name too long for its repository with BAD_OBJECT_NAME, in every operation', async () => {
    const { store } = await agentStore();
    const name = 'x'.repeat(200) + '/'.concat('y'.repeat(200)).repeat(4); // 1004 characters
    assert.ok(name.length <= MAX_NAME_LENGTH && name.length > MAX_NAME_LENGTH - prefixLength);
    for (const op of [
      store.put(name, Buffer.from('x')),
      store.get(name),
      store.head(name),
      store.delete(`sessions/${name.slice(9)}`),
    ]) {
      await assert.rejects(op, { code: 'BAD_OBJECT_NAME' });
    }
    store.close();
  });

  it('maps the refusals: 409 OBJECT_EXISTS, 507 QuotaError, 403 AuthError FORBIDDEN', async () => {
    const { v, agent, store } = await agentStore('small');
    await store.put('config', Buffer.from('one'));
    await assert.rejects(
      store.put('config', Buffer.from('two')),
      (err) => err instanceof ConflictError && err.code === 'OBJECT_EXISTS',
    );
    await assert.rejects(store.delete('config'), (err) => {
      assert.ok(err instanceof AuthError);
      assert.equal(err.code, 'FORBIDDEN');
      assert.match(err.message, /agents cannot delete backup data; the vault deletes it by retention/);
      return true;
    });
    const catalog = SqliteCatalog.open(v.server.files.catalog);
    await catalog.updateVault(agent.vault.id, { quotaBytes: 10 });
    await catalog.close();
    await assert.rejects(store.put('index/big', Buffer.alloc(11)), (err) => {
      assert.ok(err instanceof QuotaError);
      assert.equal(err.code, 'QUOTA_EXCEEDED');
      assert.match(err.message, /"small"/);
      return true;
    });
    assert.equal(await store.head('index/big'), null);
    store.close();
  });

  it('a retried upload whose first answer was lost resolves through RetryStore', async () => {
    const { store } = await agentStore();
    await store.put('snapshots/s1', Buffer.from('same'));
    // The bare store keeps the contract (a second put conflicts, even with equal bytes);
    // the server said 200 "already there", which RetryStore turns into success on a retry.
    await assert.rejects(store.put('snapshots/s1', Buffer.from('same')), { code: 'OBJECT_EXISTS' });
    let calls = 0;
    const flaky: BlobStore = {
      location: store.location,
      put: async (name, data) => {
        calls++;
        await store.put(name, data);
        if (calls === 1) throw new TransientError('VAULT_UNREACHABLE', 'the answer was lost');
      },
      get: (name, range) => store.get(name, range),
      head: (name) => store.head(name),
      list: (prefix) => store.list(prefix),
      delete: (name) => store.delete(name),
    };
    const retrying = new RetryStore(flaky, { sleep: async () => {} });
    await retrying.put('snapshots/s2', Buffer.from('once'));
    assert.equal(calls, 2);
    assert.equal((await store.get('snapshots/s2')).toString(), 'once');
    store.close();
  });

  it('a server that is not there is a TransientError (retryable), not a crash', async () => {
    const { v, agent } = await agentStore();
    const store = new HttpBlobStore({
      url: `https://127.0.0.1:${await deadPort()}`,
      caPem: v.server.caPem,
      certPem: agent.certPem,
      keyPem: agent.keyPem,
    });
    for (const op of [
      store.get('config'),
      store.head('config'),
      collect(store.list('')),
      store.put('x', Buffer.from('x')),
    ]) {
      await assert.rejects(op, (err) => err instanceof TransientError && err.code === 'VAULT_UNREACHABLE');
    }
    store.close();
  });

  it('trusts only the CA it was given: another CA is SERVER_NOT_TRUSTED, not retried', async () => {
    const { v, agent } = await agentStore();
    const otherCa = createCertificateAuthority({ commonName: 'another CA', validDays: 1 }).certPem;
    const store = new HttpBlobStore({
      url: v.server.url,
      caPem: otherCa,
      certPem: agent.certPem,
      keyPem: agent.keyPem,
    });
    await assert.rejects(
      store.head('config'),
      (err) => err instanceof AuthError && err.code === 'SERVER_NOT_TRUSTED',
    );
    store.close();
  });

  it('a request with no answer in time is a TransientError', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket)); // accepts TCP, never speaks TLS
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const { v, agent } = await agentStore();
    const store = new HttpBlobStore({
      url: `https://127.0.0.1:${port}`,
      caPem: v.server.caPem,
      certPem: agent.certPem,
      keyPem: agent.keyPem,
      timeoutMs: 200,
    });
    await assert.rejects(
      store.head('config'),
      (err) => err instanceof TransientError && err.code === 'VAULT_TIMEOUT',
    );
    store.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('uses a caller’s https.Agent when given one, and leaves it open on close', async () => {
    const { v, agent } = await agentStore();
    let connections = 0;
    class Counting extends Agent {
      override createConnection(...args: Parameters<Agent['createConnection']>) {
        connections++;
        return super.createConnection(...args);
      }
    }
    const pool = new Counting({ keepAlive: true });
    const store = new HttpBlobStore({
      url: v.server.url,
      caPem: v.server.caPem,
      certPem: agent.certPem,
      keyPem: agent.keyPem,
      agent: pool,
    });
    const text = Buffer.from('via the caller’s agent');
    await store.put('config', text);
    assert.ok((await store.get('config')).equals(text));
    assert.ok(connections >= 1);
    store.close();
    assert.equal((await store.head('config'))?.size, text.length, 'the agent still works after close');
    pool.destroy();
  });

  it('refuses bad URLs when built', () => {
    for (const url of ['not a url', 'http://127.0.0.1:1']) {
      assert.throws(
        () => new HttpBlobStore({ url, caPem: '', certPem: '', keyPem: '' }),
        (err: { code?: string }) => err.code === 'BAD_VAULT_URL',
      );
    }
  });
});
