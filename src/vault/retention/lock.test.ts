import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isOffsiteError } from '../../errors/index.ts';
import { SqliteCatalog } from '../catalog/index.ts';
import { POINTS_LOCK_MS, pointsLockName, withPointsLock } from './lock.ts';

// The points lock is a catalog lease, so two connections (two vault server instances)
// take turns on one server's points, and a holder that died is waited out.

const T0 = Date.UTC(2026, 0, 1);

async function twoInstances(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'offsite-points-lock-'));
  const a = SqliteCatalog.open(join(dir, 'catalog.sqlite'));
  const b = SqliteCatalog.open(join(dir, 'catalog.sqlite'));
  t.after(async () => {
    await a.close();
    await b.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { a, b };
}

test('retention and undelete on two instances take turns on one server’s points', async (t) => {
  const { a, b } = await twoInstances(t);
  const order: string[] = [];
  let letGo!: () => void;
  const held = new Promise<void>((resolve) => {
    letGo = resolve;
  });
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const retention = withPointsLock(a, 's1', 'retention', T0, async () => {
    order.push('retention in');
    entered();
    await held;
    order.push('retention out');
  });
  await inside;
  const undelete = withPointsLock(b, 's1', 'undelete', T0, async () => {
    order.push('undelete');
  });
  // Another server's points are not held up.
  await withPointsLock(b, 's2', 'undelete', T0, async () => {
    order.push('other server');
  });
  letGo();
  await Promise.all([retention, undelete]);
  assert.deepEqual(order, ['retention in', 'other server', 'retention out', 'undelete']);
  const lease = (await a.listLeases()).find((l) => l.name === pointsLockName('s1'));
  assert.match(lease?.holder ?? '', /^undelete\//);
  assert.ok(lease!.expiresAt < T0 + POINTS_LOCK_MS, 'given back before its term');
});

test('an undelete that waits too long is POINTS_BUSY; a dead holder is waited out', async (t) => {
  const { a, b } = await twoInstances(t);
  // A retention run that died holding the lock until T0 + POINTS_LOCK_MS.
  await a.takeLease(pointsLockName('s1'), 'retention/dead', T0, T0 + POINTS_LOCK_MS);
  let ran = false;
  await assert.rejects(
    withPointsLock(
      b,
      's1',
      'undelete',
      T0,
      async () => {
        ran = true;
      },
      100,
    ),
    (err) => isOffsiteError(err) && err.code === 'POINTS_BUSY' && err.kind === 'transient',
  );
  assert.equal(ran, false);
  await withPointsLock(
    b,
    's1',
    'undelete',
    T0 + POINTS_LOCK_MS,
    async () => {
      ran = true;
    },
    100,
  );
  assert.equal(ran, true);
});
