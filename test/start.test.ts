// `npm start` on a fresh data folder, twice: the vault server on embedded defaults, a vault,
// an agent registered by credentials file, a backup through the vault, a restore and the
// usage report; the second run reuses everything and backs up incrementally.
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { run, tempDir } from './helpers/cli.ts';
import { freePort } from './helpers/ports.ts';

const START = resolve(import.meta.dirname, '../scripts/start.ts');
const PROJECT = resolve(import.meta.dirname, '..');

test('npm start runs the vault server and a first backup and restore through it', async (t) => {
  const data = join(await tempDir(t, 'offsite-start-'), 'data');
  const env = { OFFSITE_DATA: data, OFFSITE_LISTEN: `127.0.0.1:${await freePort()}` };
  const first = await run(process.execPath, [START, '--once'], env);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.match(
    first.stdout,
    /console login link \(one use, 15 minutes\): https:\/\/127\.0\.0\.1:\d+\/#login=/,
  );
  assert.match(first.stdout, /recovery point [0-9a-f-]{36} committed to vault demo/);
  assert.match(first.stdout, /why your stored bytes differ from what you protect/);
  await access(join(data, 'restored', PROJECT, 'README.md'));

  const second = await run(process.execPath, [START, '--once'], env);
  assert.equal(second.code, 0, second.stderr + second.stdout);
  assert.doesNotMatch(second.stdout, /create a vault/);
  assert.match(second.stdout, /Files: +0 new, 0 changed, \d+ unmodified/);
});
