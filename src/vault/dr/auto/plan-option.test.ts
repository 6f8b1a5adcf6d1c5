import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlanFileError, parsePlanFile } from '../plans/plan-file.ts';
import { autoFailoverOf } from './plan-option.ts';

function planWith(auto: string): string {
  return `
plans:
  - name: shop
    groups:
      - { name: data, workloads: [db] }
${auto}
`;
}

function problems(text: string): readonly string[] {
  try {
    parsePlanFile(text);
  } catch (err) {
    assert.ok(err instanceof PlanFileError);
    return err.problems;
  }
  assert.fail('the plan was accepted');
}

test('autoFailover is off unless the plan turns it on, and is kept as checked', () => {
  const [off] = parsePlanFile(planWith(''));
  assert.equal(off!.autoFailover, undefined);
  assert.equal(autoFailoverOf(off), undefined);
  const [on] = parsePlanFile(
    planWith('    autoFailover: { enabled: true, afterSilence: 90s, witnesses: [replica, "site:dc3"] }'),
  );
  assert.deepEqual(on!.autoFailover, {
    enabled: true,
    afterSilenceMs: 90_000,
    witnesses: ['replica', 'site:dc3'],
  });
  assert.deepEqual(autoFailoverOf(JSON.parse(JSON.stringify(on))), on!.autoFailover);
  const [defaults] = parsePlanFile(planWith('    autoFailover: { enabled: true, afterSilence: 2m }'));
  assert.deepEqual(defaults!.autoFailover?.witnesses, ['replica']);
  const [disabled] = parsePlanFile(planWith('    autoFailover: { enabled: false }'));
  assert.equal(autoFailoverOf(disabled), undefined);
});

test('a broken autoFailover names each field and what it must be', () => {
  const found = problems(
    planWith('    autoFailover: { enabled: yes, afterSilence: 30s, witnesses: ["site:dc3"], when: now }'),
  );
  assert.deepEqual(found, [
    'plans[0].autoFailover.when: unknown field; allowed: enabled, afterSilence, witnesses',
    'plans[0].autoFailover.enabled: must be true or false',
    'plans[0].autoFailover.afterSilence: must be a duration from 1m to 24h, e.g. 90s, 2m, 1h',
    'plans[0].autoFailover.witnesses: must be [replica] or [replica, site:NAME] (the replica always witnesses)',
  ]);
  assert.match(
    problems(planWith('    autoFailover: { enabled: true }'))[0]!,
    /afterSilence: is required when enabled/,
  );
  assert.match(
    problems(
      planWith('    autoFailover: { enabled: true, afterSilence: 2m, witnesses: [replica, "site:DC 3"] }'),
    )[0]!,
    /witnesses\[1\]: must be \[replica\] or \[replica, site:NAME\]; a site name is/,
  );
  assert.match(problems(planWith('    autoFailover: true'))[0]!, /autoFailover: must be a mapping/);
  assert.match(
    problems(planWith('    autoFailover: { enabled: true, afterSilence: 25h }'))[0]!,
    /afterSilence: must be a duration from 1m to 24h/,
  );
});
