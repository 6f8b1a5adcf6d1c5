import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteCatalog } from '../vault/catalog/index.ts';
import { takeOverFromDeadPredecessor } from './predecessor.ts';

// The leases of a server killed outright are released by the next one started on its data
// folder, and nobody else's: not a live process's, not another machine's.

const MINUTE = 60_000;

/** The id of a process that has exited (and, for the test's short life, not been reused). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

test('a dead predecessor on this machine loses its live leases; others keep theirs', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'offsite-predecessor-'));
  const catalog = SqliteCatalog.open(join(dir, 'catalog.sqlite'));
  t.after(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });
  const now = Date.now();
  const dead = `${hostname()}/${deadPid()}/aaaa1111`;
  const alive = `${hostname()}/${process.pid}/bbbb2222`;
  const remote = `elsewhere.example/${deadPid()}/cccc3333`;
  await catalog.takeLease('task:dr-plan-runs', dead, now, now + MINUTE);
  await catalog.takeLease('task:gc', alive, now, now + MINUTE);
  await catalog.takeLease('task:usage', remote, now, now + MINUTE);
  const file = join(dir, 'background-holder');
  const notes: Record<string, unknown>[] = [];
  const services = { catalog, now: () => now + 1000 };
  const me = `${hostname()}/${process.pid}/dddd4444`;

  for (const previous of [alive, remote]) {
    await writeFile(file, `${previous}\n`);
    await takeOverFromDeadPredecessor(file, me, services, (msg, f) => notes.push({ msg, ...f }));
  }
  assert.equal(notes.length, 0, 'a live or remote predecessor keeps its leases');
  await writeFile(file, `${dead}\n`);
  await takeOverFromDeadPredecessor(file, me, services, (msg, f) => notes.push({ msg, ...f }));

  const byName = new Map((await catalog.listLeases()).map((l) => [l.name, l]));
  assert.ok(byName.get('task:dr-plan-runs')!.expiresAt <= now + 1000, 'the dead holder lease is released');
  assert.ok(byName.get('task:gc')!.expiresAt > now + 1000);
  assert.ok(byName.get('task:usage')!.expiresAt > now + 1000);
  assert.deepEqual(notes, [
    { msg: 'lease of a dead predecessor released', lease: 'task:dr-plan-runs', previous: dead },
  ]);
  assert.equal(await readFile(file, 'utf8'), `${me}\n`, 'the file names this instance now');
  const taken = await catalog.takeLease('task:dr-plan-runs', me, now + 1000, now + 1000 + MINUTE);
  assert.equal(taken.holder, me, 'the task can be taken at once');
});

test('no file yet: nothing is released, the file is written', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'offsite-predecessor-'));
  const catalog = SqliteCatalog.open(join(dir, 'catalog.sqlite'));
  t.after(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });
  const file = join(dir, 'background-holder');
  await takeOverFromDeadPredecessor(file, 'me/1/x', { catalog, now: Date.now }, () => assert.fail('no note'));
  assert.equal(await readFile(file, 'utf8'), 'me/1/x\n');
});
