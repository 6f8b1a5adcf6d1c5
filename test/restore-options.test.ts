// Restore options on real files through the real CLI: back to the original location
// with --overwrite never / if-newer / always, into a recovery folder, single files, and
// a point in time (--at); and a replacement interrupted mid-file (an error, and a real
// SIGKILL) leaves the original whole, never truncated.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  link,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { TransientError } from '../src/errors/index.ts';
import { backup, listSnapshots, Repository, restore, type Snapshot } from '../src/repo/index.ts';
import { parsePointInTime } from '../src/repo/restore/point-in-time.ts';
import { type BlobStore, type ByteRange, FileStore } from '../src/storage/index.ts';
import { lastJson, runCli, tempDir } from './helpers/cli.ts';
import { makeRepo, reopen, TEST_PASSPHRASE } from './helpers/repo.ts';
import { compareTrees } from './helpers/tree-compare.ts';

const ENV = { OFFSITE_PASSWORD: TEST_PASSPHRASE };
const SMALL = { chunker: { min: 512, avg: 1024, max: 4096 }, packSize: 4096 };

async function cli(args: string[], env: Record<string, string> = {}) {
  const r = await runCli([...args, '--json'], { ...ENV, ...env });
  assert.equal(r.code, 0, `offsite ${args.join(' ')}: ${r.stderr}`);
  return { json: lastJson(r), stderr: r.stderr };
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** src with a few files and a folder; backed up once into a local repository. */
async function backedUp(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const src = join(dir, 'src');
  await mkdir(join(src, 'sub'), { recursive: true });
  await writeFile(join(src, 'a.txt'), 'a as backed up');
  await writeFile(join(src, 'b.txt'), 'b as backed up');
  await writeFile(join(src, 'sub', 'c.txt'), 'c as backed up');
  const { path } = await makeRepo(dir);
  await backup(await reopen(path), { paths: [src] });
  // Later, by hand: one file edited, one deleted, one added.
  await writeFile(join(src, 'a.txt'), 'a edited after the backup');
  await rm(join(src, 'b.txt'));
  await writeFile(join(src, 'new.txt'), 'made after the backup');
  return { dir, src, repo: path };
}

describe('restore to the original location', () => {
  it('--in-place defaults to --overwrite never: existing files are kept and reported, missing ones come back', async (t) => {
    const { src, repo } = await backedUp(t);
    const { json, stderr } = await cli(['restore', 'latest', '--in-place', '--repo', repo]);
    assert.equal(json.target, '/');
    assert.equal(json.overwrite, 'never');
    assert.equal(await readFile(join(src, 'a.txt'), 'utf8'), 'a edited after the backup');
    assert.equal(await readFile(join(src, 'b.txt'), 'utf8'), 'b as backed up');
    assert.equal(await readFile(join(src, 'new.txt'), 'utf8'), 'made after the backup');
    assert.deepEqual(json.kept.sort(), [join(src, 'a.txt'), join(src, 'sub', 'c.txt')]);
    assert.equal(json.files, 1);
    assert.match(stderr, new RegExp(`kept \\(exists\\): ${join(src, 'a.txt')}`));
  });

  it('--overwrite if-newer replaces only files older than the snapshot version', async (t) => {
    const { src, repo } = await backedUp(t);
    const old = new Date('2001-01-01T00:00:00Z');
    await writeFile(join(src, 'sub', 'c.txt'), 'c edited, then dated 2001');
    await utimes(join(src, 'sub', 'c.txt'), old, old);
    const { json } = await cli([
      'restore',
      'latest',
      '--target',
      '/',
      '--overwrite',
      'if-newer',
      '--repo',
      repo,
    ]);
    assert.equal(await readFile(join(src, 'sub', 'c.txt'), 'utf8'), 'c as backed up');
    assert.equal(await readFile(join(src, 'a.txt'), 'utf8'), 'a edited after the backup');
    assert.equal(await readFile(join(src, 'b.txt'), 'utf8'), 'b as backed up');
    assert.deepEqual(json.kept, [join(src, 'a.txt')]);
  });

  it('--overwrite always replaces each file by a new one renamed over it, never writing into the original', async (t) => {
    const { dir, src, repo } = await backedUp(t);
    const reference = join(dir, 'reference');
    await cli(['restore', 'latest', '--target', reference, '--repo', repo]);
    // A reader holding the edited original keeps reading it whole: it was replaced, not rewritten.
    const before = await open(join(src, 'a.txt'));
    t.after(() => before.close());
    await rm(join(src, 'new.txt')); // not in the snapshot: a restore adds and replaces, never deletes
    const { json } = await cli(['restore', 'latest', '--in-place', '--overwrite', 'always', '--repo', repo]);
    assert.deepEqual(json.kept, []);
    assert.equal((await before.readFile('utf8')).toString(), 'a edited after the backup');
    assert.equal(await readFile(join(src, 'a.txt'), 'utf8'), 'a as backed up');
    assert.deepEqual(await compareTrees(join(reference, src), src), []);
    assert.deepEqual(
      (await readdir(src)).filter((n) => n.startsWith('.offsite-restore-')),
      [],
      'no temporary file is left',
    );
  });

  it('refuses an unknown --overwrite mode and --target with --in-place', async (t) => {
    const { repo } = await backedUp(t);
    const bad = await runCli(
      ['restore', 'latest', '--in-place', '--overwrite', 'sometimes', '--repo', repo],
      ENV,
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--overwrite takes never, if-newer, always/);
    const both = await runCli(['restore', 'latest', '--in-place', '--target', '/tmp/x', '--repo', repo], ENV);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /not both/);
  });
});

describe('restore into a recovery folder', () => {
  it('restores a single file or folder with --include, below its full path', async (t) => {
    const { dir, src, repo } = await backedUp(t);
    const out = join(dir, 'recovered');
    const { json } = await cli([
      'restore',
      'latest',
      '--target',
      out,
      '--include',
      join(src, 'sub'),
      '--repo',
      repo,
    ]);
    assert.equal(json.overwrite, 'always');
    assert.equal(await readFile(join(out, src, 'sub', 'c.txt'), 'utf8'), 'c as backed up');
    assert.deepEqual(await readdir(join(out, src)), ['sub']);
    const one = join(dir, 'one');
    await cli(['restore', 'latest', '--target', one, '--include', join(src, 'a.txt'), '--repo', repo]);
    assert.deepEqual(await readdir(join(one, src)), ['a.txt']);
    assert.equal(await readFile(join(one, src, 'a.txt'), 'utf8'), 'a as backed up');
  });
});

/** Rewrites each snapshot's time (a new sealed object, the old one deleted). */
async function retime(path: string, times: Map<string, string>): Promise<void> {
  const repo = await reopen(path);
  for (const ref of await listSnapshots(repo)) {
    const time = times.get(ref.id);
    if (!time) continue;
    const body: Snapshot = { ...ref.snapshot, time };
    await repo.saveFile('snapshot', Buffer.from(JSON.stringify(body)));
    await repo.store.delete(`snapshots/${ref.id}`);
  }
}

describe('restore a point in time', () => {
  it('--at picks the newest snapshot at or before a local time, with --host as latest has', async (t) => {
    const dir = await tempDir(t);
    const src = join(dir, 'src');
    await mkdir(src);
    const { path } = await makeRepo(dir);
    const times = new Map<string, string>();
    // Local times in New York: 13:00, 14:00, 15:00 on 2026-11-01 (after the DST change), and
    // another host's at 14:30.
    const points: [string, string, string][] = [
      ['13:00', '2026-11-01T18:00:00.000Z', 'web'],
      ['14:00', '2026-11-01T19:00:00.000Z', 'web'],
      ['14:30', '2026-11-01T19:30:00.000Z', 'db'],
      ['15:00', '2026-11-01T20:00:00.000Z', 'web'],
    ];
    for (const [label, time, hostname] of points) {
      await writeFile(join(src, 'which'), label);
      const saved = await backup(await reopen(path), { paths: [src], hostname });
      times.set(saved.id, time);
    }
    await retime(path, times);
    const tz = { TZ: 'America/New_York' };
    const pick = async (at: string, ...more: string[]) => {
      const out = join(dir, `out-${randomBytes(4).toString('hex')}`);
      await cli(['restore', '--at', at, '--target', out, '--repo', path, ...more], tz);
      return readFile(join(out, src, 'which'), 'utf8');
    };
    assert.equal(await pick('2026-11-01 14:00'), '14:00');
    assert.equal(await pick('2026-11-01 13:59'), '13:00');
    assert.equal(await pick('2026-11-01 14:45'), '14:30');
    assert.equal(await pick('2026-11-01 14:45', '--host', 'web'), '14:00');
    assert.equal(await pick('2026-11-01'), '15:00', 'a date alone is the end of that day');
    assert.equal(await pick('2026-11-01T19:59:59Z'), '14:30', 'an absolute time');

    const early = await runCli(['restore', '--at', '2026-11-01 12:59', '--target', dir, '--repo', path], {
      ...ENV,
      ...tz,
    });
    assert.equal(early.code, 1, early.stderr);
    assert.match(early.stderr, /no snapshot .* at or before/);
    const bad = await runCli(['restore', '--at', '2026-02-30 10:00', '--target', dir, '--repo', path], ENV);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /not a date and time/);
  });
});

describe('reading a point in time', () => {
  it('takes local time across daylight-saving changes, and refuses what is no time', (t) => {
    const zone = process.env.TZ;
    t.after(() => {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    });
    process.env.TZ = 'Europe/Berlin';
    const iso = (text: string) => parsePointInTime(text).toISOString();
    assert.equal(iso('2026-07-01 14:00'), '2026-07-01T12:00:00.000Z');
    assert.equal(iso('2026-12-01T14:00:30'), '2026-12-01T13:00:30.000Z');
    assert.equal(iso('2026-03-29 02:30'), '2026-03-29T01:30:00.000Z', 'a skipped time moves on by the gap');
    assert.equal(iso('2026-10-25 02:30'), '2026-10-25T00:30:00.000Z', 'a repeated time is its first');
    assert.equal(iso('2026-10-25'), '2026-10-25T22:59:59.999Z');
    assert.equal(iso('2026-10-25 02:30+05:00'), '2026-10-24T21:30:00.000Z');
    for (const bad of [
      'yesterday',
      '2026-13-01 10:00',
      '2026-04-31',
      '2026-04-01 24:00',
      '2026-04-01 10:60',
    ]) {
      assert.throws(() => parsePointInTime(bad), { code: 'BAD_TIME' }, bad);
    }
  });
});

describe('what is in the way', () => {
  it('symlinks, folders and hard links: kept with never, replaced with always, a folder in the way refused', async (t) => {
    const dir = await tempDir(t);
    const src = join(dir, 'src');
    await mkdir(join(src, 'd'), { recursive: true });
    await writeFile(join(src, 'f'), 'file f');
    await writeFile(join(src, 'd', 'x'), 'x in d');
    await symlink('f', join(src, 'l'));
    await writeFile(join(src, 'h1'), 'hard-linked');
    await link(join(src, 'h1'), join(src, 'h2'));
    const { path } = await makeRepo(dir);
    const saved = await backup(await reopen(path), { paths: [src] });
    // Each name now holds something of another kind.
    await rm(join(src, 'l'));
    await writeFile(join(src, 'l'), 'not a link');
    await rm(join(src, 'd'), { recursive: true });
    await writeFile(join(src, 'd'), 'not a folder');
    await rm(join(src, 'f'));
    await mkdir(join(src, 'f'));
    await writeFile(join(src, 'h2'), 'h2 on its own');

    const kept = await restore(await reopen(path), saved, { target: '/', overwrite: 'never' });
    assert.deepEqual(kept.errors, []);
    assert.deepEqual(
      kept.kept.sort(),
      ['d', 'f', 'h1', 'h2', 'l'].map((n) => join(src, n)),
    );
    assert.equal(await readFile(join(src, 'l'), 'utf8'), 'not a link');
    assert.equal(await readFile(join(src, 'd'), 'utf8'), 'not a folder');

    const replaced = await restore(await reopen(path), saved, { target: '/', overwrite: 'always' });
    assert.deepEqual(
      replaced.errors.map((e) => [e.path, e.message]),
      [[join(src, 'f'), 'a folder is where the snapshot has a file']],
    );
    assert.equal(await readlink(join(src, 'l')), 'f');
    assert.equal(await readFile(join(src, 'd', 'x'), 'utf8'), 'x in d');
    const [h1, h2] = [await stat(join(src, 'h1')), await stat(join(src, 'h2'))];
    assert.equal(h1.ino, h2.ino, 'the hard link is made again');
    assert.equal(await readFile(join(src, 'h2'), 'utf8'), 'hard-linked');
    assert.deepEqual(await temps(src), []);
  });
});

/** Pack reads from the `from`-th on wait, until `release` fails them. */
class GatedStore implements BlobStore {
  readonly #inner: BlobStore;
  readonly #from: number;
  #reads = 0;
  readonly location: string;
  readonly paused: Promise<void>;
  #reached: () => void = () => {};
  readonly #released: Promise<never>;
  release: (err: Error) => void = () => {};

  constructor(inner: BlobStore, from: number) {
    this.#inner = inner;
    this.#from = from;
    this.location = inner.location;
    this.paused = new Promise<void>((r) => (this.#reached = r));
    this.#released = new Promise<never>((_, reject) => (this.release = reject));
    this.#released.catch(() => {});
  }

  get(name: string, range?: ByteRange): Promise<Buffer> {
    if (name.startsWith('data/') && ++this.#reads >= this.#from) {
      this.#reached();
      return this.#released;
    }
    return this.#inner.get(name, range);
  }
  put(name: string, data: Uint8Array) {
    return this.#inner.put(name, data);
  }
  head(name: string) {
    return this.#inner.head(name);
  }
  list(prefix: string) {
    return this.#inner.list(prefix);
  }
  delete(name: string) {
    return this.#inner.delete(name);
  }
}

async function withBigFile(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const src = join(dir, 'src');
  await mkdir(src);
  const file = join(src, 'big.bin');
  await writeFile(file, randomBytes(400 * 1024));
  const { path } = await makeRepo(dir, SMALL);
  const saved = await backup(await reopen(path), { paths: [src] });
  const original = randomBytes(300 * 1024);
  await writeFile(file, original);
  return { dir, src, file, path, saved, original };
}

async function temps(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((n) => n.startsWith('.offsite-restore-'));
}

async function reopenOn(store: BlobStore): Promise<Repository> {
  const repo = await Repository.open(store, TEST_PASSPHRASE);
  await repo.loadIndex();
  return repo;
}

describe('an interrupted replacement', () => {
  it('leaves the original whole while the new file is half-written, and whole when the restore fails', async (t) => {
    const { src, file, path, saved, original } = await withBigFile(t);
    const gate = new GatedStore(new FileStore(path), 10);
    const running = restore(await reopenOn(gate), saved, { target: '/', overwrite: 'always' });
    await gate.paused;
    const [temp] = await temps(src);
    assert.ok(temp, 'the new version is written beside the original');
    assert.equal(sha(await readFile(file)), sha(original), 'the original is untouched meanwhile');
    gate.release(new TransientError('STORAGE_GONE', 'the storage went away'));
    const result = await running;
    assert.equal(result.errors.length, 1);
    assert.equal(result.errors[0]!.path, file);
    assert.equal(sha(await readFile(file)), sha(original));
    assert.deepEqual(await temps(src), [], 'the temporary file is removed');
  });

  it('a restore killed mid-file (SIGKILL) leaves the original whole', async (t) => {
    const { dir, src, file, path, saved, original } = await withBigFile(t);
    const script = join(dir, 'child.ts');
    const root = resolve(import.meta.dirname, '..');
    await writeFile(
      script,
      `import { restore, Repository } from '${root}/src/repo/index.ts';
import { FileStore } from '${root}/src/storage/index.ts';
const inner = new FileStore(${JSON.stringify(path)});
let reads = 0;
const store = {
  location: inner.location,
  get: async (name, range) => {
    if (name.startsWith('data/') && ++reads >= 10) {
      process.stdout.write('paused\\n');
      return new Promise(() => {});
    }
    return inner.get(name, range);
  },
  put: (name, data) => inner.put(name, data),
  head: (name) => inner.head(name),
  list: (prefix) => inner.list(prefix),
  delete: (name) => inner.delete(name),
};
const repo = await Repository.open(store, ${JSON.stringify(TEST_PASSPHRASE)});
await repo.loadIndex();
await restore(repo, ${JSON.stringify(saved)}, { target: '/', overwrite: 'always' });
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolvePaused, reject) => {
      child.on('exit', (code) => reject(new Error(`the child exited (${code}) before pausing`)));
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('paused')) resolvePaused();
      });
    });
    // The half-written replacement: wait until the reads before the gate are on disk.
    let temp: string | undefined;
    for (let i = 0; i < 500 && !temp; i++) {
      temp = (await temps(src))[0];
      if (!temp || (await stat(join(src, temp))).size === 0) {
        temp = undefined;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    assert.ok(temp, 'a half-written temporary file exists');
    child.removeAllListeners('exit');
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    assert.equal(sha(await readFile(file)), sha(original), 'the original is whole after the kill');
    assert.ok((await stat(join(src, temp))).size < 400 * 1024, 'the kill came mid-file');
  });
});
