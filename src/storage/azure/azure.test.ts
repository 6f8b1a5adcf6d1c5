import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AuthError, NotFoundError, TransientError } from '../../errors/index.ts';
import { assertNoSecret } from '../cloud/test-helpers.ts';
import { blobStoreConformance, collect } from '../conformance.ts';
import { RetryStore } from '../wrappers/index.ts';
import { AzureBlobStore, type AzureStoreOptions } from './index.ts';
import { AZURITE_KEY, type Azurite, startAzurite } from './test-server.ts';

let azurite: Azurite;
before(async () => {
  azurite = await startAzurite();
});
after(() => azurite?.stop());

/** A fresh container per store; `prefix` puts the store under a key prefix. */
function factory(prefix?: string, options?: AzureStoreOptions) {
  return async () => {
    const container = await azurite.newContainer();
    const store = AzureBlobStore.fromUrl(azurite.url(container, prefix), azurite.env, options);
    return { store, cleanup: () => azurite.deleteContainer(container) };
  };
}

blobStoreConformance('AzureBlobStore (Azurite)', factory());
blobStoreConformance(
  'AzureBlobStore under a key prefix, small blocks and pages (Azurite)',
  factory('tenants/t1', {
    maxSinglePutBytes: 3 * 1024 * 1024,
    blockBytes: 1024 * 1024,
    listPageSize: 2,
  }),
  { maxNameLength: 1024 - 'tenants/t1/'.length },
);

describe('AzureBlobStore against Azurite', () => {
  it('keeps objects under its key prefix and ignores foreign blobs beside them', async () => {
    const container = await azurite.newContainer();
    const plain = AzureBlobStore.fromUrl(azurite.url(container), azurite.env);
    const scoped = AzureBlobStore.fromUrl(azurite.url(container, 'p/q'), azurite.env);
    await scoped.put('data/x', Buffer.from('in'));
    await plain.put('other', Buffer.from('out'));
    assert.deepEqual(await collect(plain.list('')), [
      { name: 'other', size: 3 },
      { name: 'p/q/data/x', size: 2 },
    ]);
    assert.deepEqual(await collect(scoped.list('')), [{ name: 'data/x', size: 2 }]);
    assert.equal(scoped.location, `azure://devstoreaccount1/${container}/p/q?endpoint=${azurite.serviceUrl}`);
    await azurite.deleteContainer(container);
  });

  it('says STORE_NOT_FOUND when the container is missing, and reads nothing from it', async () => {
    const store = AzureBlobStore.fromUrl(azurite.url('no-such-container'), azurite.env);
    await assert.rejects(store.put('a', Buffer.from('x')), (err) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.code, 'STORE_NOT_FOUND');
      assert.match(err.hint ?? '', /create the container/);
      return true;
    });
    await assert.rejects(collect(store.list('')), { code: 'STORE_NOT_FOUND' });
    await assert.rejects(store.get('a'), { code: 'OBJECT_NOT_FOUND' });
    assert.equal(await store.head('a'), null);
    await store.delete('a');
  });

  it('maps a wrong account key to AuthError, never retried, with no secret anywhere', async () => {
    const container = await azurite.newContainer();
    const wrongKey = randomBytes(64).toString('base64');
    const store = AzureBlobStore.fromUrl(azurite.url(container), { AZURE_STORAGE_KEY: wrongKey });
    let attempts = 0;
    const retried = new RetryStore(store, { sleep: async () => void attempts++ });
    for (const call of [
      () => retried.put('a', Buffer.from('x')),
      () => retried.get('a'),
      () => retried.head('a'),
      () => collect(retried.list('')),
      () => retried.delete('a'),
    ]) {
      await assert.rejects(call(), (err) => {
        assert.ok(err instanceof AuthError, String(err));
        assert.equal(err.code, 'STORAGE_ACCESS_DENIED');
        assert.match(err.hint ?? '', /AZURE_STORAGE_KEY/);
        assertNoSecret(err, [wrongKey, AZURITE_KEY]);
        return true;
      });
    }
    assert.equal(attempts, 0, 'an auth failure is permanent');
    await azurite.deleteContainer(container);
  });

  it('maps a SAS that does not authenticate to AuthError without echoing it', async () => {
    const container = await azurite.newContainer();
    const sas = `sv=2021-08-06&ss=b&srt=sco&sp=rwdlac&se=2099-01-01T00:00:00Z&sig=${encodeURIComponent(randomBytes(32).toString('base64'))}`;
    const store = AzureBlobStore.fromUrl(azurite.url(container), { AZURE_STORAGE_SAS: `?${sas}` });
    await assert.rejects(store.put('a', Buffer.from('x')), (err) => {
      assert.ok(err instanceof AuthError, String(err));
      assertNoSecret(err, [sas.slice(sas.indexOf('sig=') + 4), 'sig=']);
      return true;
    });
    assert.ok(!store.location.includes('sig'));
    await azurite.deleteContainer(container);
  });

  it('reports an unreachable service as TransientError, which RetryStore retries', async () => {
    const stopped = await startAzurite();
    const container = await stopped.newContainer();
    const store = AzureBlobStore.fromUrl(stopped.url(container), stopped.env);
    await store.put('a', Buffer.from('x'));
    await stopped.stop();
    for (const call of [
      () => store.get('a'),
      () => store.put('b', Buffer.from('y')),
      () => collect(store.list('')),
    ]) {
      await assert.rejects(call(), (err) => {
        assert.ok(err instanceof TransientError, String(err));
        assert.equal(err.code, 'STORAGE_UNREACHABLE');
        assert.match(err.message, /cannot reach azure:\/\/devstoreaccount1\//);
        return true;
      });
    }
    let sleeps = 0;
    const retried = new RetryStore(store, { attempts: 3, sleep: async () => void sleeps++ });
    await assert.rejects(retried.head('a'), { code: 'RETRIES_EXHAUSTED' });
    assert.equal(sleeps, 2);
  });

  it('refuses names that do not fit the key limit under a prefix, before any request', async () => {
    const prefix = 'x'.repeat(200);
    const store = AzureBlobStore.fromUrl(azurite.url('never-created', prefix), azurite.env);
    assert.equal(store.maxNameLength, 1024 - 201);
    const tooLong = `${'a'.repeat(250)}/${'b'.repeat(250)}/${'c'.repeat(250)}/${'d'.repeat(100)}`;
    await assert.rejects(store.put(tooLong, Buffer.from('x')), { code: 'BAD_OBJECT_NAME' });
  });
});
