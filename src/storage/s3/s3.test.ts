import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Agent, type AgentOptions } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { AuthError, BadInputError, NotFoundError, TransientError } from '../../errors/index.ts';
import { assertNoSecret } from '../cloud/test-helpers.ts';
import { blobStoreConformance, collect } from '../conformance.ts';
import { RetryStore } from '../wrappers/index.ts';
import { mapS3Error } from './errors.ts';
import { S3BlobStore, type S3StoreOptions } from './index.ts';
import { type S3rver, startS3rver } from './test-server.ts';

let s3: S3rver;
before(async () => {
  s3 = await startS3rver();
});
after(() => s3?.stop());

/** A fresh bucket per store. */
function factory(prefix?: string, extra?: string, options?: S3StoreOptions) {
  return async () => {
    const bucket = await s3.newBucket();
    const store = S3BlobStore.fromUrl(s3.url(bucket, prefix, extra), s3.env, options);
    return { store, cleanup: () => s3.removeBucket(bucket) };
  };
}

/** An agent that resolves every *.localhost name to 127.0.0.1, and remembers the names. */
function localhostAgent(seen: Set<string>): Agent {
  const lookup: AgentOptions['lookup'] = (hostname, options, callback) => {
    seen.add(hostname);
    const cb = callback as (...args: unknown[]) => void;
    if (!hostname.endsWith('.localhost'))
      return cb(Object.assign(new Error(hostname), { code: 'ENOTFOUND' }));
    if ((options as { all?: boolean }).all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
    else cb(null, '127.0.0.1', 4);
  };
  return new Agent({ lookup });
}

blobStoreConformance('S3BlobStore (s3rver, path style, create-only=both)', factory());
// A vault-like prefix. Its length also keeps the last segment of the longest name short
// enough for s3rver's files (segment + its own suffixes must fit NAME_MAX, 255).
const VAULT_PREFIX = 'v-0123456789abcdef/servers/s-0123456789abcdef/repo';
blobStoreConformance(
  'S3BlobStore under a key prefix, create-only=head, pages of 2 (s3rver)',
  factory(VAULT_PREFIX, 'create-only=head', { listPageSize: 2 }),
  { maxNameLength: 1024 - VAULT_PREFIX.length - 1 },
);

const hostsSeen = new Set<string>();
blobStoreConformance('S3BlobStore (s3rver, virtual-host style)', async () => {
  const bucket = await s3.newBucket();
  const url = `s3://${bucket}?endpoint=http://s3.localhost:${s3.port}&style=virtual`;
  const store = S3BlobStore.fromUrl(url, s3.env, { httpAgent: localhostAgent(hostsSeen) });
  return { store, cleanup: () => s3.removeBucket(bucket) };
});

describe('S3BlobStore against s3rver', () => {
  it('addressed buckets by host name in virtual-host style', () => {
    const bucketHosts = [...hostsSeen].filter((host) => /^t-[0-9a-f]{16}\.s3\.localhost$/.test(host));
    assert.ok(bucketHosts.length > 0, `hosts looked up: ${[...hostsSeen].join(', ')}`);
  });

  it('shows that s3rver ignores If-None-Match on put: create-only=header would overwrite there', async () => {
    const bucket = await s3.newBucket();
    const trusting = S3BlobStore.fromUrl(s3.url(bucket, '', 'create-only=header'), s3.env);
    await trusting.put('x', Buffer.from('first'));
    await trusting.put('x', Buffer.from('second'));
    assert.equal(
      (await trusting.get('x')).toString(),
      'second',
      's3rver now honours If-None-Match: revisit the default',
    );
    const checking = S3BlobStore.fromUrl(s3.url(bucket), s3.env);
    await assert.rejects(checking.put('x', Buffer.from('third')), { code: 'OBJECT_EXISTS' });
    assert.equal((await checking.get('x')).toString(), 'second');
    await s3.removeBucket(bucket);
  });

  it('serialises check-then-put across stores of one process: exactly one put of a name wins', async () => {
    const bucket = await s3.newBucket();
    const stores = Array.from({ length: 6 }, () =>
      S3BlobStore.fromUrl(s3.url(bucket, '', 'create-only=head'), s3.env),
    );
    const results = await Promise.allSettled(
      stores.map((store, i) => store.put('once', Buffer.alloc(50_000, i))),
    );
    const winners = results.flatMap((result, i) => (result.status === 'fulfilled' ? [i] : []));
    assert.equal(winners.length, 1, `${winners.length} puts won`);
    for (const result of results)
      if (result.status === 'rejected') assert.equal(result.reason.code, 'OBJECT_EXISTS');
    assert.ok((await stores[0]!.get('once')).equals(Buffer.alloc(50_000, winners[0]!)));
    await s3.removeBucket(bucket);
  });

  it('keeps objects under its key prefix and ignores foreign keys beside them', async () => {
    const bucket = await s3.newBucket();
    const plain = S3BlobStore.fromUrl(s3.url(bucket), s3.env);
    const scoped = S3BlobStore.fromUrl(s3.url(bucket, 'p/q'), s3.env);
    await scoped.put('data/x', Buffer.from('in'));
    await plain.put('other', Buffer.from('out'));
    assert.deepEqual(await collect(plain.list('')), [
      { name: 'other', size: 3 },
      { name: 'p/q/data/x', size: 2 },
    ]);
    assert.deepEqual(await collect(scoped.list('')), [{ name: 'data/x', size: 2 }]);
    assert.equal(scoped.location, `s3://${bucket}/p/q?endpoint=${s3.endpoint}`);
    await s3.removeBucket(bucket);
  });

  it('says STORE_NOT_FOUND when the bucket is missing, and reads nothing from it', async () => {
    const store = S3BlobStore.fromUrl(s3.url('no-such-bucket'), s3.env);
    await assert.rejects(store.put('a', Buffer.from('x')), (err) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.code, 'STORE_NOT_FOUND');
      assert.match(err.hint ?? '', /create the bucket/);
      return true;
    });
    await assert.rejects(collect(store.list('')), { code: 'STORE_NOT_FOUND' });
    await assert.rejects(store.get('a'), { code: 'OBJECT_NOT_FOUND' });
    await assert.rejects(store.get('a', { offset: 0, length: 0 }), { code: 'OBJECT_NOT_FOUND' });
    assert.equal(await store.head('a'), null);
    await store.delete('a');
  });

  // s3rver checks the access key id but not SigV4 signatures, so a wrong secret key is
  // accepted there; an unknown key id is what it can refuse.
  it('maps refused credentials to AuthError, never retried, with no secret anywhere', async () => {
    const bucket = await s3.newBucket();
    const secret = randomBytes(30).toString('base64');
    const wrong = {
      AWS_ACCESS_KEY_ID: 'AKIAUNKNOWN0000000000',
      AWS_SECRET_ACCESS_KEY: secret,
      AWS_SESSION_TOKEN: `tok-${secret}`,
    };
    let attempts = 0;
    const store = new RetryStore(S3BlobStore.fromUrl(s3.url(bucket), wrong), {
      sleep: async () => void attempts++,
    });
    for (const call of [
      () => store.put('a', Buffer.from('x')),
      () => store.get('a'),
      () => store.get('a', { offset: 1, length: 1 }),
      () => store.head('a'),
      () => collect(store.list('')),
      () => store.delete('a'),
    ]) {
      await assert.rejects(call(), (err) => {
        assert.ok(err instanceof AuthError, String(err));
        assert.equal(err.code, 'STORAGE_ACCESS_DENIED');
        assert.match(err.hint ?? '', /AWS_SECRET_ACCESS_KEY/);
        assertNoSecret(err, [secret]);
        return true;
      });
    }
    assert.equal(attempts, 0, 'an auth failure is permanent');
    await s3.removeBucket(bucket);
  });

  it('reports an unreachable service as TransientError, which RetryStore retries', async () => {
    const stopped = await startS3rver();
    const bucket = await stopped.newBucket();
    const store = S3BlobStore.fromUrl(stopped.url(bucket), stopped.env);
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
        assert.match(err.message, /cannot reach s3:\/\/t-/);
        return true;
      });
    }
    let sleeps = 0;
    const retried = new RetryStore(store, { attempts: 3, sleep: async () => void sleeps++ });
    await assert.rejects(retried.head('a'), { code: 'RETRIES_EXHAUSTED' });
    assert.equal(sleeps, 2);
  });
});

describe('mapS3Error on answers s3rver never gives', () => {
  const ctx = { operation: 'writing', name: 'n', location: 's3://b', credentialsHint: 'AWS_*' } as const;
  const answer = (name: string, status: number) =>
    new S3ServiceException({
      name,
      $fault: status >= 500 ? 'server' : 'client',
      $metadata: { httpStatusCode: status },
    });

  it('412 on put is OBJECT_EXISTS; 409 ConditionalRequestConflict is transient (AWS: retry it)', () => {
    assert.equal(mapS3Error(answer('PreconditionFailed', 412), ctx).code, 'OBJECT_EXISTS');
    const conflict = mapS3Error(answer('ConditionalRequestConflict', 409), ctx);
    assert.ok(conflict instanceof TransientError);
  });

  it('501 NotImplemented on put names the URL setting that avoids the header', () => {
    const err = mapS3Error(answer('NotImplemented', 501), ctx);
    assert.ok(err instanceof BadInputError);
    assert.match(err.hint ?? '', /create-only=head/);
  });

  it('throttling and server errors are transient; no credentials at all is AuthError', () => {
    for (const [name, status] of [
      ['SlowDown', 503],
      ['InternalError', 500],
      ['RequestTimeout', 408],
    ] as const) {
      assert.ok(
        mapS3Error(answer(name, status), { ...ctx, operation: 'reading' }) instanceof TransientError,
        name,
      );
    }
    const none = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    assert.equal(mapS3Error(none, ctx).code, 'STORAGE_NO_CREDENTIALS');
  });
});
