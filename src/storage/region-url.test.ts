import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthError, BadInputError } from '../errors/index.ts';
import { assertNoSecret } from './cloud/test-helpers.ts';
import { FileStore } from './fs/index.ts';
import { parseRegionUrl } from './region-url.ts';

describe('parseRegionUrl', () => {
  it('parses file:// regions to a normalised URL that opens a FileStore', () => {
    const region = parseRegionUrl('local=file:///srv/offsite/../regions/a%20b', {});
    assert.equal(region.name, 'local');
    assert.equal(region.url, 'file:///srv/regions/a%20b');
    const store = region.open();
    assert.ok(store instanceof FileStore);
    assert.equal(store.location, '/srv/regions/a b');
  });

  it('keeps azure:// and s3:// URLs as given, and reads their credentials only when opened', () => {
    const azure = 'azure://acct1/vaults/eu?endpoint=https://acct1.blob.core.chinacloudapi.cn';
    const s3 = 's3://backups/vaults?endpoint=https://minio:9000&style=path&region=us-east-1';
    const eu = parseRegionUrl(`eu-north=${azure}`, {});
    const us = parseRegionUrl(`us-east-2=${s3}`, { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' });
    assert.deepEqual([eu.name, eu.url], ['eu-north', azure]);
    assert.deepEqual([us.name, us.url], ['us-east-2', s3]);
    assert.throws(
      () => eu.open(),
      (err) => err instanceof AuthError && err.code === 'STORAGE_NO_CREDENTIALS',
    );
    assert.throws(() => us.open(), { code: 'INCOMPLETE_CREDENTIALS' });
    const opened = parseRegionUrl(`eu-north=${azure}`, { AZURE_STORAGE_KEY: 'a2V5' }).open();
    assert.equal(
      opened.location,
      'azure://acct1/vaults/eu?endpoint=https://acct1.blob.core.chinacloudapi.cn',
    );
  });

  it('refuses a spec that is not NAME=URL, or a name that is not lowercase letters, digits and hyphens', () => {
    for (const spec of [
      'file:///srv',
      '=file:///srv',
      'EU=file:///srv',
      'eu north=file:///srv',
      '-eu=file:///srv',
    ]) {
      assert.throws(
        () => parseRegionUrl(spec, {}),
        (err) => {
          assert.ok(err instanceof BadInputError);
          assert.equal(err.code, 'BAD_REGION');
          assert.match(err.hint ?? '', /NAME=URL.*file:\/\/\/absolute\/path.*azure:\/\/.*s3:\/\//);
          return true;
        },
      );
    }
  });

  it('refuses other schemes, hosts in file URLs and relative paths, naming the region', () => {
    for (const spec of ['r1=https://example.com/x', 'r1=file://server/share', 'r1=/srv/plain-path', 'r1=']) {
      assert.throws(
        () => parseRegionUrl(spec, {}),
        (err) => {
          assert.ok(err instanceof BadInputError, spec);
          assert.equal(err.code, 'BAD_REGION', spec);
          assert.match(err.message, /^region r1: /);
          return true;
        },
      );
    }
  });

  it('refuses secrets in region URLs with their own codes, naming the region and not the secret', () => {
    for (const [spec, code] of [
      ['r1=azure://acct1/c01?sv=2022&sig=SeCrEt1', 'SECRET_IN_URL'],
      ['r1=s3://AKIA:SeCrEt1@bucket', 'SECRET_IN_URL'],
      ['r1=s3://bucket?style=SeCrEt1', 'BAD_STORE_LOCATION'],
      ['r1=SeCrEt1', 'BAD_REGION'],
      ['SeCrEt1', 'BAD_REGION'],
    ] as const) {
      assert.throws(
        () => parseRegionUrl(spec, {}),
        (err) => {
          assert.ok(err instanceof BadInputError, spec);
          assert.equal(err.code, code, spec);
          assertNoSecret(err, ['SeCrEt1']);
          return true;
        },
      );
    }
  });
});
