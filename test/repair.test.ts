// Integrity and repair end to end, on real files through the real CLI: one flipped byte
// in each kind of object is named by `check --read-data`; after damage to a pack, a lost
// index file or a lost pack, `repair index` and `repair snapshots` leave a repository
// that checks clean (but for the damaged pack itself) and restores every file that did
// not depend on the damaged bytes identically.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdir, open, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CheckResult, CheckProblem as Problem } from '../src/repo/check.ts';
import { hex } from '../src/repo/crypto/seal.ts';
import { fastKdfParams, packName, Repository, walkTree } from '../src/repo/index.ts';
import { printableName } from '../src/repo/tree.ts';
import { ensureDir, FileStore } from '../src/storage/index.ts';
import { type CliResult, lastJson, runCli, tempDir } from './helpers/cli.ts';
import { flipByte, objects } from './helpers/damage.ts';
import { reopen, TEST_PASSPHRASE } from './helpers/repo.ts';
import { compareTrees, printablePath } from './helpers/tree-compare.ts';
import { makeTree } from './helpers/tree-fixture.ts';

const MiB = 1024 * 1024;
type Env = Record<string, string>;

/** Runs offsite and expects success. */
async function cli(args: string[], env: Env): Promise<CliResult> {
  const result = await runCli(args, env);
  assert.equal(result.code, 0, `offsite ${args.join(' ')}\n${result.stdout}\n${result.stderr}`);
  return result;
}

async function check(
  env: Env,
  ...args: string[]
): Promise<{ code: number; problems: Problem[]; json: CheckResult }> {
  const result = await runCli(['check', '--json', ...args], env);
  const json = lastJson(result);
  return { code: result.code, problems: json.problems, json };
}

/**
 * A repository with 512 KiB packs (so a few MiB make many packs, and damage to one pack
 * spares most files) holding one backup of a small fixture tree.
 */
async function setup(t: Parameters<typeof tempDir>[0], seed = 3) {
  const dir = await tempDir(t);
  const repo = join(dir, 'repo');
  const src = join(dir, 'src');
  await makeTree(src, { smallFiles: 80, largeFileBytes: 3 * MiB, seed });
  await ensureDir(repo);
  await Repository.init(new FileStore(repo), TEST_PASSPHRASE, {
    kdf: fastKdfParams(),
    config: { packSize: 512 * 1024 },
  });
  const env = { OFFSITE_REPOSITORY: repo, OFFSITE_PASSWORD: TEST_PASSPHRASE };
  const id = lastJson(await cli(['backup', src, '--json'], env)).id as string;
  assert.deepEqual((await check(env, '--read-data')).problems, []);
  return { dir, repo, src, env, id };
}

/** A snapshot path as repair prints it: components through printableName. */
function shown(path: Buffer): string {
  const parts: string[] = [];
  let start = 1;
  for (let i = 1; i <= path.length; i++) {
    if (i === path.length || path[i] === 0x2f) {
      parts.push(printableName(path.subarray(start, i)));
      start = i + 1;
    }
  }
  return `/${parts.join('/')}`;
}

/** Every regular file of a snapshot and the data blobs it uses. */
async function filesOf(
  repo: Repository,
  snapshotTree: string,
): Promise<{ path: Buffer; content: Buffer[] }[]> {
  const files: { path: Buffer; content: Buffer[] }[] = [];
  await walkTree(repo, Buffer.from(snapshotTree, 'hex'), (path, node) => {
    if (node.type === 'file') files.push({ path, content: node.content ?? [] });
  });
  return files;
}

async function snapshotTree(repo: Repository, id: string): Promise<string> {
  return JSON.parse((await repo.loadFile('snapshot', id)).toString()).tree;
}

/** A data blob used by some (not all) files, where it sits, and the files that use it. */
async function pickDataBlob(path: string, snapshot: string) {
  const repo = await reopen(path);
  const files = await filesOf(repo, await snapshotTree(repo, snapshot));
  const candidates = files.filter((f) => f.content.length > 0).sort((a, b) => Buffer.compare(a.path, b.path));
  const blob = candidates[Math.floor(candidates.length / 2)]!.content[0]!;
  const loc = repo.index.get(blob)!;
  const users = files.filter((f) => f.content.some((c) => c.equals(blob)));
  assert.ok(users.length > 0 && users.length < files.length);
  const pack = packName(repo.index.packId(loc.packIndex));
  const inPack = (id: Buffer) => packName(repo.index.packId(repo.index.get(id)!.packIndex)) === pack;
  // The files that lose data when the whole pack is lost.
  const packUsers = files.filter((f) => f.content.some(inPack));
  assert.ok(packUsers.length < files.length);
  return { blob: hex(blob), pack, loc, users, packUsers };
}

/** compareTrees, less the lines saying that the files expected to be gone are gone. */
async function compareExcept(src: string, restored: string, gone: Buffer[]): Promise<string[]> {
  const prefix = Buffer.from(`${src}/`);
  const expected = new Set(
    gone.map((p) => `${printablePath(p.subarray(prefix.length))}: only in expected (file)`),
  );
  const diffs = await compareTrees(src, restored);
  for (const line of expected) assert.ok(diffs.includes(line), `${line} (the damaged file is not restored)`);
  return diffs.filter((line) => !expected.has(line));
}

async function readAt(file: string, at: number, length: number): Promise<Buffer> {
  const handle = await open(file);
  try {
    const buf = Buffer.alloc(length);
    await handle.read(buf, 0, length, at);
    return buf;
  } finally {
    await handle.close();
  }
}

/** A second snapshot, of a folder of its own. */
async function backupOther(dir: string, env: Env): Promise<{ other: string; otherId: string }> {
  const other = join(dir, 'other');
  await mkdir(other);
  for (let i = 0; i < 5; i++) await writeFile(join(other, `f${i}`), `other file ${i}\n`.repeat(5000 + i));
  return { other, otherId: lastJson(await cli(['backup', other, '--json'], env)).id as string };
}

const kinds = (found: { kind: string; object: string }[]) => found.map((p) => [p.kind, p.object]);

describe('damage is named by check --read-data', () => {
  it('one flipped byte in each kind of object', async (t) => {
    const { repo, env, id } = await setup(t);
    const { pack, loc, blob } = await pickDataBlob(repo, id);
    const { size } = await stat(join(repo, pack));
    const headerStart = size - 4 - (await readAt(join(repo, pack), size - 4, 4)).readUInt32LE(0);
    const [index] = await objects(repo, 'index');
    const [key] = await objects(repo, 'keys');
    const cases: { file: string; at: number; expect: (problems: Problem[]) => void }[] = [
      {
        file: pack,
        at: headerStart + randomInt(size - 4 - headerStart),
        expect: (problems) => {
          assert.deepEqual(kinds(problems), [['hash-mismatch', pack]]);
          assert.match(problems[0]!.message, /SHA-256 mismatch.*header cannot be read/);
        },
      },
      {
        file: pack,
        at: loc.offset + randomInt(loc.length),
        expect: (problems) => {
          assert.deepEqual(kinds(problems), [['hash-mismatch', pack]]);
          assert.match(problems[0]!.message, new RegExp(`1 of \\d+ blobs are damaged: ${blob}`));
        },
      },
      {
        file: index!,
        at: randomInt((await stat(join(repo, index!))).size),
        expect: (problems) =>
          assert.ok(problems.some((p) => p.kind === 'corrupt-index' && p.object === index)),
      },
      {
        file: `snapshots/${id}`,
        at: randomInt((await stat(join(repo, 'snapshots', id))).size),
        expect: (problems) => assert.deepEqual(kinds(problems), [['corrupt-snapshot', `snapshots/${id}`]]),
      },
    ];
    for (const c of cases) {
      await flipByte(join(repo, c.file), c.at);
      const r = await check(env, '--read-data');
      assert.equal(r.code, 1, `${c.file} @${c.at}`);
      c.expect(r.problems);
      await flipByte(join(repo, c.file), c.at);
    }
    // Damaged config or key file: the repository cannot be opened; the error names it.
    for (const [file, name] of [
      ['config', /config/],
      [key!, new RegExp(key!)],
    ] as const) {
      const at = randomInt((await stat(join(repo, file))).size);
      await flipByte(join(repo, file), at);
      const r = await runCli(['check', '--read-data'], env);
      assert.equal(r.code, 1, `${file} @${at}`);
      assert.match(r.stderr, name);
      assert.doesNotMatch(r.stderr, /unexpected error/);
      await flipByte(join(repo, file), at);
    }
    assert.deepEqual((await check(env, '--read-data')).problems, []);
  });

  it('--read-data-subset 1/2 and 2/2 together read every pack once', async (t) => {
    const { repo, env } = await setup(t);
    const packs = await objects(repo, 'data');
    assert.ok(packs.length >= 6, `${packs.length} packs`);
    for (const pack of packs) {
      const { size } = await stat(join(repo, pack));
      await flipByte(join(repo, pack), Math.floor(size / 2));
    }
    // Damaged tree packs also show up in the walk of the trees (corrupt-tree), subset or
    // not; reading a pack shows as its hash mismatch.
    const read = (r: Awaited<ReturnType<typeof check>>) =>
      r.problems.filter((p) => p.kind === 'hash-mismatch').map((p) => p.object);
    const halves = [
      await check(env, '--read-data-subset', '1/2'),
      await check(env, '--read-data-subset', '2/2'),
    ];
    assert.deepEqual(halves.flatMap(read).sort(), packs, 'every pack read exactly once');
    for (const h of halves) {
      assert.equal(h.code, 1);
      assert.equal(h.json.packsRead, read(h).length);
      assert.ok(h.problems.every((p) => p.kind === 'hash-mismatch' || p.kind === 'corrupt-tree'));
    }
    const some = await check(env, '--read-data-subset', '10%');
    assert.equal(some.json.packsRead, Math.ceil(packs.length / 10));
    assert.equal(read(some).length, some.json.packsRead);

    for (const bad of ['0/2', '3/2', '0%', '150%', 'half']) {
      const r = await runCli(['check', '--read-data-subset', bad, '--json'], env);
      assert.equal(r.code, 1, bad);
      assert.equal(lastJson(r).error, 'BAD_SUBSET');
      assert.ok(r.stderr.includes(`"${bad}"`), r.stderr);
    }
    const both = await runCli(['check', '--read-data', '--read-data-subset', '1/2'], env);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /cannot be used together/);
  });
});

describe('repair', () => {
  it('a damaged data blob: repair index + repair snapshots --read-data --forget', async (t) => {
    const { dir, repo, src, env, id } = await setup(t);
    // Another snapshot, of other data: it does not depend on the damage and stays as it is.
    const { other, otherId } = await backupOther(dir, env);
    const { pack, loc, users } = await pickDataBlob(repo, id);
    const expectedRemoved = users.map((u) => shown(u.path)).sort();
    const oldIndexes = await objects(repo, 'index');
    await flipByte(join(repo, pack), loc.offset + randomInt(loc.length));

    const damaged = await check(env, '--read-data');
    assert.equal(damaged.code, 1);
    assert.deepEqual(kinds(damaged.problems), [['hash-mismatch', pack]]);

    // The header still reads, so the pack stays indexed for its good blobs.
    const index = lastJson(await cli(['repair', 'index', '--json'], env));
    assert.deepEqual(index.unreadable, []);
    assert.equal(index.packsIndexed, index.packsFound);
    assert.deepEqual(
      [...index.removed].sort(),
      oldIndexes.map((n) => n.slice('index/'.length)),
    );
    assert.deepEqual(await objects(repo, 'index'), index.written.map((w: string) => `index/${w}`).sort());

    const snapshotsBefore = await objects(repo, 'snapshots');
    const dry = lastJson(await cli(['repair', 'snapshots', '--read-data', '--dry-run', '--json'], env));
    assert.deepEqual(
      dry.repaired.map((r: { id: string; removed: string[] }) => [r.id, [...r.removed].sort()]),
      [[id, expectedRemoved]],
    );
    assert.deepEqual(await objects(repo, 'snapshots'), snapshotsBefore, 'a dry run writes nothing');

    const fixed = lastJson(await cli(['repair', 'snapshots', '--read-data', '--forget', '--json'], env));
    assert.equal(fixed.snapshots, 2);
    assert.equal(fixed.repaired.length, 1);
    const [repaired] = fixed.repaired;
    assert.equal(repaired.id, id);
    assert.deepEqual([...repaired.removed].sort(), expectedRemoved);
    assert.deepEqual(repaired.emptied, []);
    assert.equal(repaired.forgotten, true);
    assert.deepEqual(
      await objects(repo, 'snapshots'),
      [`snapshots/${otherId}`, `snapshots/${repaired.newId}`].sort(),
    );
    const listed = lastJson(await cli(['snapshots', '--json'], env));
    const replacement = listed.find((s: { id: string }) => s.id === repaired.newId);
    assert.ok(replacement.tags.includes('repaired'));
    assert.equal(replacement.original, id);
    assert.deepEqual([...replacement.repair.removed].sort(), expectedRemoved);

    // Only the damaged pack itself is left to report.
    const after = await check(env, '--read-data');
    assert.equal(after.code, 1);
    assert.deepEqual(kinds(after.problems), [['hash-mismatch', pack]]);

    const out = join(dir, 'out');
    await cli(['restore', repaired.newId, '--target', out], env);
    assert.deepEqual(
      await compareExcept(
        src,
        join(out, src),
        users.map((u) => u.path),
      ),
      [],
    );
    await cli(['restore', otherId, '--target', join(dir, 'out2')], env);
    assert.deepEqual(await compareTrees(other, join(dir, 'out2', other)), []);
  });

  it('lost index files: repair index brings back a clean check and a full restore', async (t) => {
    const { dir, repo, src, env } = await setup(t);
    const packs = await objects(repo, 'data');
    for (const index of await objects(repo, 'index')) await rm(join(repo, index));
    const broken = await check(env);
    assert.equal(broken.code, 1);
    const found = new Set(broken.problems.map((p) => p.kind));
    assert.ok(found.has('missing-blob'), [...found].join());
    assert.ok(
      broken.json.notes.some((n) => n.kind === 'orphan-pack'),
      'the unindexed packs are listed',
    );

    // Repairing snapshots against this index would drop data that is there: refused.
    const early = await runCli(['repair', 'snapshots', '--forget', '--json'], env);
    assert.equal(early.code, 1);
    assert.equal(lastJson(early).error, 'INDEX_INCOMPLETE');
    assert.match(early.stderr, /repair index/);

    const rebuilt = lastJson(await cli(['repair', 'index', '--json'], env));
    assert.equal(rebuilt.packsIndexed, packs.length);
    assert.deepEqual(rebuilt.removed, []);
    assert.deepEqual((await check(env, '--read-data')).problems, []);
    // Again, reading whole packs: same packs, the first new index file replaced.
    const whole = lastJson(await cli(['repair', 'index', '--read-all-packs', '--json'], env));
    assert.equal(whole.packsIndexed, packs.length);
    assert.deepEqual(whole.damaged, []);
    assert.deepEqual(whole.removed, rebuilt.written);
    assert.deepEqual((await check(env, '--read-data')).problems, []);

    await cli(['restore', 'latest', '--target', join(dir, 'out')], env);
    assert.deepEqual(await compareTrees(src, join(dir, 'out', src)), []);
  });

  it('a lost pack: check names it and the files; after repair the rest checks clean and restores', async (t) => {
    const { dir, repo, src, env, id } = await setup(t);
    const { pack, packUsers: users } = await pickDataBlob(repo, id);
    await rm(join(repo, pack));

    const broken = await check(env);
    assert.equal(broken.code, 1);
    assert.ok(broken.problems.some((p) => p.kind === 'missing-pack' && p.object === pack));
    const missing = broken.problems.filter((p) => p.kind === 'missing-blob');
    for (const user of users) {
      assert.ok(
        missing.some((p) => p.message.includes(`${shown(user.path)} is in pack ${pack}, which is missing`)),
        shown(user.path),
      );
    }

    await cli(['repair', 'index'], env);
    const fixed = lastJson(await cli(['repair', 'snapshots', '--forget', '--json'], env));
    assert.deepEqual([...fixed.repaired[0].removed].sort(), users.map((u) => shown(u.path)).sort());
    assert.deepEqual((await check(env, '--read-data')).problems, []);
    await cli(['restore', 'latest', '--target', join(dir, 'out')], env);
    assert.deepEqual(
      await compareExcept(
        src,
        join(dir, 'out', src),
        users.map((u) => u.path),
      ),
      [],
    );
  });

  it('a pack whose header is damaged is left out by repair index; its files are removed', async (t) => {
    const { dir, repo, src, env, id } = await setup(t);
    const { pack, packUsers: users } = await pickDataBlob(repo, id);
    const { size } = await stat(join(repo, pack));
    await flipByte(join(repo, pack), size - 4 - 1 - randomInt(20));

    const rebuilt = lastJson(await cli(['repair', 'index', '--json'], env));
    assert.deepEqual(
      rebuilt.unreadable.map((u: { pack: string }) => u.pack),
      [pack],
    );
    assert.match(rebuilt.unreadable[0].reason, /header.*failed authentication/);
    const fixed = lastJson(await cli(['repair', 'snapshots', '--forget', '--json'], env));
    assert.deepEqual([...fixed.repaired[0].removed].sort(), users.map((u) => shown(u.path)).sort());
    // The damaged pack stays in storage (nothing deletes data a person may still rescue).
    const after = await check(env, '--read-data');
    assert.deepEqual(kinds(after.problems), []);
    assert.deepEqual(kinds(after.json.notes), [['orphan-pack', pack]]);
    await cli(['restore', 'latest', '--target', join(dir, 'out')], env);
    assert.deepEqual(
      await compareExcept(
        src,
        join(dir, 'out', src),
        users.map((u) => u.path),
      ),
      [],
    );
  });
});
