import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadInputError } from '../errors/index.ts';
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
      ['azure://account/container', 'azure:'],
      ['s3://bucket/prefix', 's3:'],
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
