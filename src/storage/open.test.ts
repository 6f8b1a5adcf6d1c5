import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AuthError, BadInputError } from '../errors/index.ts';
import { assertNoSecret } from './cloud/test-helpers.ts';
import { FileStore } from './fs/index.ts';
import { MemoryStore } from './memory/index.ts';
import { openStore } from './open.ts';

describe('openStore', () => {
  it('opens plain paths, relative or absolute, as a FileStore', () => {
    for (const [location, root] of [
      ['/srv/backups', '/srv/backups'],
      ['backups', `${process.cwd()}/backups`],
      ['./a:b', `${process.cwd()}/a:b`],
      ['C:/x', `${process.cwd()}/C:/x`],
    ]) {
      const store = openStore(location!);
      assert.ok(store instanceof FileStore, location);
      assert.equal(store.location, root);
    }
  });

  it('opens file:///abs/path URLs as a FileStore, decoding escapes', () => {
    const store = openStore('file:///srv/my%20backups');
    assert.ok(store instanceof FileStore);
    assert.equal(store.location, '/srv/my backups');
    assert.ok(openStore('FILE:///srv') instanceof FileStore);
  });

  it('refuses a file URL that names a host', () => {
    assert.throws(() => openStore('file://server/share'), { code: 'BAD_STORE_LOCATION' });
  });

  it('opens memory: as a new, empty MemoryStore each time', async () => {
    const first = openStore('memory:');
    assert.ok(first instanceof MemoryStore);
    await first.put('a', Buffer.from('x'));
    assert.equal(await openStore('memory:').head('a'), null);
  });

  it('refuses an empty location', () => {
    assert.throws(() => openStore(''), { code: 'BAD_STORE_LOCATION' });
  });

  it('refuses other schemes, naming the scheme and the supported ones, without echoing secrets', () => {
    for (const [location, scheme] of [
      ['gs://bucket/prefix', 'gs:'],
      ['https://user:secret@host/x?sig=secret', 'https:'],
      ['sftp:host:/x', 'sftp:'],
    ]) {
      assert.throws(
        () => openStore(location!),
        (err) => {
          assert.ok(err instanceof BadInputError);
          assert.equal(err.code, 'UNSUPPORTED_STORE');
          assert.ok(err.message.includes(`"${scheme}"`), err.message);
          assert.ok(!err.message.includes('secret'), err.message);
          assert.match(err.hint ?? '', /file:\/\/\/absolute\/path.*memory:/);
          return true;
        },
      );
    }
  });
});

const AZURE_ENV = { AZURE_STORAGE_KEY: 'a2V5' };
const S3_ENV = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'c2VjcmV0' };

describe('openStore with cloud URLs', () => {
  it('opens azure:// and s3:// URLs without contacting anything; location is the URL without settings', () => {
    for (const [url, env, location] of [
      ['azure://acct1/container', AZURE_ENV, 'azure://acct1/container'],
      ['AZURE://acct1/my-container/a/b/', AZURE_ENV, 'azure://acct1/my-container/a/b'],
      [
        'azure://devstoreaccount1/c01?endpoint=http://127.0.0.1:10000/devstoreaccount1/',
        AZURE_ENV,
        'azure://devstoreaccount1/c01?endpoint=http://127.0.0.1:10000/devstoreaccount1',
      ],
      ['s3://my.bucket', S3_ENV, 's3://my.bucket'],
      ['s3://bucket-1/vaults/', {}, 's3://bucket-1/vaults'],
      [
        's3://bucket/p?endpoint=https://minio.internal:9000&style=virtual&region=eu-west-1&create-only=header',
        S3_ENV,
        's3://bucket/p?endpoint=https://minio.internal:9000',
      ],
    ] as const) {
      assert.equal(openStore(url, env).location, location, url);
    }
  });

  it('refuses a URL that carries a secret, naming the variables to use, never repeating it', () => {
    for (const url of [
      'azure://user:SeCrEt1@acct1/container',
      'azure://acct1/container?sv=2022-11-02&sp=rwdl&sig=SeCrEt1',
      'azure://acct1/container?endpoint=https://x.example&AccountKey=SeCrEt1',
      'azure://acct1/container?endpoint=https://user:SeCrEt1@x.example',
      's3://AKIAEXAMPLE:SeCrEt1@bucket/x',
      's3://bucket?X-Amz-Credential=AKIA&X-Amz-Signature=SeCrEt1',
      's3://bucket?aws_secret_access_key=SeCrEt1',
      's3://bucket?SeCrEt1tokenlike0123456789',
      's3://bucket?endpoint=https://host:9000/?key=SeCrEt1',
    ]) {
      assert.throws(
        () => openStore(url, url.startsWith('azure') ? AZURE_ENV : S3_ENV),
        (err) => {
          assert.ok(err instanceof BadInputError, url);
          assert.equal(err.code, 'SECRET_IN_URL', `${url}: ${err.message}`);
          assert.match(
            err.hint ?? '',
            url.startsWith('azure') ? /AZURE_STORAGE_KEY.*AZURE_STORAGE_SAS/ : /AWS_ACCESS_KEY_ID/,
          );
          assertNoSecret(err, ['SeCrEt1']);
          return true;
        },
      );
    }
  });

  it('refuses malformed cloud URLs with BAD_STORE_LOCATION, saying what is wrong', () => {
    for (const [url, problem] of [
      ['azure://acct1', /names no valid container/],
      ['azure://acct1/Upper', /names no valid container/],
      ['azure://a/container', /not a storage account name/],
      ['azure://acct1/container/../x', /"\." or "\.\." segment/],
      ['s3://bucket/a/%2E%2e/b', /"\." or "\.\." segment/],
      ['azure://acct1/container?endpiont=http://x', /unknown query parameter "endpiont"/],
      ['azure://acct1/container?endpoint=ftp://x', /http:\/\/ or https:\/\//],
      ['azure://acct1/container#frag', /fragment/],
      ['s3://Bad_Bucket', /not a bucket name/],
      ['s3://bucket?style=sideways', /style .* must be path or virtual/],
      ['s3://bucket?create-only=never', /create-only .* must be header or head or both/],
      ['s3://bucket?region=a%20b', /not a region name/],
      ['s3://bucket?region=a&region=b', /gives "region" twice/],
      ['s3://bucket/a//b', /key prefix/],
    ] as const) {
      assert.throws(
        () => openStore(url, url.startsWith('azure') ? AZURE_ENV : S3_ENV),
        (err) => {
          assert.ok(err instanceof BadInputError, url);
          assert.equal(err.code, 'BAD_STORE_LOCATION', `${url}: ${err.message}`);
          assert.match(err.message, problem, url);
          assert.ok((err.hint ?? '').length > 0, url);
          return true;
        },
      );
    }
  });
});

describe('credentials for cloud stores', () => {
  it('Azure: an account key or SAS from the environment or a file; none is AuthError naming the variables', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'offsite-open-'));
    try {
      const keyFile = join(dir, 'key');
      await writeFile(keyFile, 'a2V5\n');
      const url = 'azure://acct1/container';
      for (const env of [
        { AZURE_STORAGE_KEY_FILE: keyFile },
        { AZURE_STORAGE_SAS: '?sv=2022&sig=abc' },
        { AZURE_STORAGE_SAS_FILE: keyFile, AZURE_STORAGE_ACCOUNT: 'acct1', AZURE_STORAGE_KEY: '' },
      ]) {
        assert.equal(openStore(url, env).location, url);
      }
      assert.throws(
        () => openStore(url, {}),
        (err) => {
          assert.ok(err instanceof AuthError);
          assert.equal(err.code, 'STORAGE_NO_CREDENTIALS');
          assert.match(err.hint ?? '', /AZURE_STORAGE_KEY or AZURE_STORAGE_SAS, or AZURE_STORAGE_KEY_FILE/);
          return true;
        },
      );
      for (const [env, code] of [
        [{ AZURE_STORAGE_KEY: 'a2V5', AZURE_STORAGE_SAS: 'sig=SeCrEt1' }, 'AMBIGUOUS_CREDENTIALS'],
        [{ AZURE_STORAGE_KEY: 'SeCrEt1', AZURE_STORAGE_KEY_FILE: keyFile }, 'AMBIGUOUS_CREDENTIALS'],
        [{ AZURE_STORAGE_KEY: 'SeCrEt1', AZURE_STORAGE_ACCOUNT: 'other' }, 'CREDENTIALS_ACCOUNT_MISMATCH'],
        [{ AZURE_STORAGE_KEY_FILE: join(dir, 'missing') }, 'BAD_CREDENTIALS_FILE'],
      ] as const) {
        assert.throws(
          () => openStore(url, env),
          (err) => {
            assert.equal((err as BadInputError).code, code);
            assertNoSecret(err, ['SeCrEt1', 'a2V5']);
            return true;
          },
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('S3: key id and secret together, or neither (the SDK default chain)', () => {
    const url = 's3://bucket';
    assert.equal(openStore(url, {}).location, url);
    assert.equal(openStore(url, { ...S3_ENV, AWS_SESSION_TOKEN: 'dG9r' }).location, url);
    for (const env of [
      { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' },
      { AWS_SECRET_ACCESS_KEY: 'SeCrEt1' },
      { AWS_SESSION_TOKEN: 'SeCrEt1' },
    ]) {
      assert.throws(
        () => openStore(url, env),
        (err) => {
          assert.equal((err as BadInputError).code, 'INCOMPLETE_CREDENTIALS');
          assertNoSecret(err, ['SeCrEt1']);
          return true;
        },
      );
    }
  });
});
