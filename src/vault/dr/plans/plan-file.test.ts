import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPlanDocument, PlanFileError, parsePlanFile } from './plan-file.ts';

const GOOD = `
plans:
  - name: shop
    description: the web shop
    groups:
      - name: data
        workloads: [orders-db]
        post:
          - { type: manual, name: check-db, message: look at the orders, timeout: 2h }
      - name: apps
        workloads: [orders-api, front]
        pre:
          - { type: script, site: dc2, command: ./dns.sh, onlyFor: [planned, unplanned], onError: continue }
          - { type: delay, duration: 30s }
`;

function problems(document: unknown): readonly string[] {
  try {
    checkPlanDocument(document);
  } catch (err) {
    assert.ok(err instanceof PlanFileError);
    return err.problems;
  }
  assert.fail('the document was accepted');
}

test('a good plan file is read with its defaults filled in', () => {
  const [plan] = parsePlanFile(GOOD);
  assert.equal(plan!.name, 'shop');
  assert.deepEqual(
    plan!.groups.map((g) => [g.name, g.workloads]),
    [
      ['data', ['orders-db']],
      ['apps', ['orders-api', 'front']],
    ],
  );
  assert.deepEqual(plan!.groups[0]!.post[0], {
    name: 'check-db',
    type: 'manual',
    onlyFor: ['test', 'planned', 'unplanned'],
    onError: 'fail',
    timeoutMs: 2 * 3_600_000,
    site: null,
    command: null,
    message: 'look at the orders',
    durationMs: null,
  });
  const [script, delay] = plan!.groups[1]!.pre;
  assert.deepEqual(
    [script!.site, script!.onlyFor, script!.onError, script!.timeoutMs],
    ['dc2', ['planned', 'unplanned'], 'continue', 600_000],
  );
  assert.deepEqual([delay!.name, delay!.durationMs, delay!.timeoutMs], ['apps-pre-2', 30_000, null]);
});

test('every bad field is named, each with what is allowed', () => {
  const found = problems({
    plans: [
      {
        name: 'Shop',
        extra: 1,
        groups: [
          {
            name: 'g',
            workloads: ['db', 'db'],
            pre: [
              { type: 'script', command: '' },
              { type: 'manual', message: 'x', timeout: '5s', onlyFor: ['drill'] },
              { type: 'delay', duration: '2d', onError: 'ignore', timeout: '1m' },
              { type: 'reboot' },
            ],
          },
          { name: 'g', workloads: [] },
        ],
      },
    ],
  });
  for (const expected of [
    /^plans\[0\]\.extra: unknown field/,
    /^plans\[0\]\.name: a plan name is/,
    /^plans\[0\]\.groups\[0\]\.pre\[0\]\.site: a site name is/,
    /^plans\[0\]\.groups\[0\]\.pre\[0\]\.command: must be text/,
    /^plans\[0\]\.groups\[0\]\.pre\[1\]\.timeout: must be a duration from 1m to 168h/,
    /^plans\[0\]\.groups\[0\]\.pre\[1\]\.onlyFor: must be a list of one or more of test, planned, unplanned/,
    /^plans\[0\]\.groups\[0\]\.pre\[2\]\.duration: must be a duration from 1s to 24h/,
    /^plans\[0\]\.groups\[0\]\.pre\[2\]\.onError: must be fail or continue/,
    /^plans\[0\]\.groups\[0\]\.pre\[2\]\.timeout: unknown field/,
    /^plans\[0\]\.groups\[0\]\.pre\[3\]\.type: must be one of script, manual, delay/,
    /^plans\[0\]\.groups\[1\]\.workloads: must be a list of 1 to 100 entries/,
  ]) {
    assert.ok(
      found.some((p) => expected.test(p)),
      `${expected} not in:\n${found.join('\n')}`,
    );
  }
});

test('names are unique in a plan: groups, actions, and a workload in one group only', () => {
  const found = problems({
    plans: [
      {
        name: 'shop',
        groups: [
          { name: 'a', workloads: ['db'], post: [{ type: 'manual', name: 'ok', message: 'm' }] },
          { name: 'a', workloads: ['db'], pre: [{ type: 'delay', name: 'ok', duration: '1s' }] },
        ],
      },
    ],
  });
  assert.deepEqual(found, [
    'plans[0].groups[1].name: "a" is used twice',
    'plans[0].groups[1].workloads: "db" is in the plan twice',
    'plans[0].groups[1]: the action name "ok" is used twice',
  ]);
});

test('a YAML syntax error names its line; an empty file is refused', () => {
  assert.throws(() => parsePlanFile('plans:\n  - name: [\n'), /BAD_PLAN_FILE|line 2|line 3/);
  assert.throws(() => parsePlanFile(''), PlanFileError);
  assert.throws(() => parsePlanFile('plans: []'), /plans: must be a list of 1 to 100 entries/);
});
