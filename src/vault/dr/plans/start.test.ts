import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkFailoverBody, DEFAULT_PORT_OFFSET } from './start.ts';

test('a failover request: type, point and port offset checked; planned always takes the latest point', () => {
  assert.deepEqual(checkFailoverBody({ type: 'test' }), {
    type: 'test',
    point: 'latest',
    portOffset: DEFAULT_PORT_OFFSET,
  });
  assert.deepEqual(
    checkFailoverBody({ type: 'unplanned', point: '2026-11-01T10:00:00+01:00', portOffset: 5 }),
    {
      type: 'unplanned',
      point: '2026-11-01T09:00:00.000Z',
      portOffset: 0,
    },
  );
  assert.equal(
    checkFailoverBody({ type: 'unplanned', point: 'latest-consistent' }).point,
    'latest-consistent',
  );
  assert.throws(() => checkFailoverBody({ type: 'drill' }), /type: must be one of test, planned, unplanned/);
  assert.throws(() => checkFailoverBody({ type: 'unplanned', point: 'yesterday' }), /point: must be latest/);
  assert.throws(
    () => checkFailoverBody({ type: 'planned', point: 'latest-consistent' }),
    /always uses the latest/,
  );
  assert.throws(
    () => checkFailoverBody({ type: 'test', portOffset: 70_000 }),
    /portOffset: must be a whole number/,
  );
});
