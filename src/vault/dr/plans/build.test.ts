import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunType, SiteRow, WorkloadRow } from '../../catalog/index.ts';
import { buildRunSteps, type Direction } from './build.ts';
import { parsePlanFile } from './plan-file.ts';

const [PLAN] = parsePlanFile(`
plans:
  - name: shop
    groups:
      - name: data
        workloads: [db]
        post: [{ type: manual, name: check, message: look, onlyFor: [test] }]
      - name: apps
        workloads: [api, web]
        pre: [{ type: script, name: dns, site: dc2, command: ./dns.sh, onlyFor: [planned] }]
`);

const directions = new Map<string, Direction>(
  ['db', 'api', 'web'].map((name) => [
    name,
    { workload: { id: `id-${name}`, name } as WorkloadRow, sourceSiteId: 's1', targetSiteId: 's2' },
  ]),
);
const sites = new Map([['dc2', { id: 's2', name: 'dc2' } as SiteRow]]);

function layout(type: RunType): string[] {
  const steps = buildRunSteps(PLAN!, type, 'latest', directions, sites);
  return steps.map((s) => `${s.stage}:${s.lane}:${s.name}${s.state === 'skipped' ? ' (skipped)' : ''}`);
}

test('a test failover: groups in order, their workloads side by side, actions of other types skipped', () => {
  assert.deepEqual(layout('test'), [
    '0:db:materialise/db',
    '0:db:start/db',
    '0:db:health/db',
    '1:data/post:check',
    '2:apps/pre:dns (skipped)',
    '3:api:materialise/api',
    '3:api:start/api',
    '3:api:health/api',
    '3:web:materialise/web',
    '3:web:start/web',
    '3:web:health/web',
  ]);
});

test('planned: stop the later groups first, sync, fence, then start in order', () => {
  const steps = layout('planned');
  assert.deepEqual(steps.slice(0, 9), [
    '0:api:stop/api',
    '0:web:stop/web',
    '1:db:stop/db',
    '2:db:sync/db',
    '2:api:sync/api',
    '2:web:sync/web',
    '3:db:fence/db',
    '3:api:fence/api',
    '3:web:fence/web',
  ]);
  assert.ok(steps.includes('5:data/post:check (skipped)'));
  assert.ok(steps.includes('6:apps/pre:dns'));
});

test('unplanned: fence every workload before anything starts; stop and sync are not asked of the lost site', () => {
  const steps = buildRunSteps(PLAN!, 'unplanned', '2026-01-01T00:00:00.000Z', directions, sites);
  assert.deepEqual(
    steps.filter((s) => s.stage === 0).map((s) => [s.kind, s.siteId, s.params.targetSiteId]),
    [
      ['fence', 's1', 's2'],
      ['fence', 's1', 's2'],
      ['fence', 's1', 's2'],
    ],
  );
  assert.equal(
    steps.some((s) => s.kind === 'stop' || s.kind === 'replicate-now'),
    false,
  );
  assert.equal(steps.find((s) => s.kind === 'materialise')!.params.point, '2026-01-01T00:00:00.000Z');
  assert.ok(steps.filter((s) => s.kind !== 'fence').every((s) => s.stage > 0));
});
