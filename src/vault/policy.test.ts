import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadInputError } from '../errors/index.ts';
import {
  isRetentionReduction,
  policyJson,
  retentionReductions,
  validatePolicy,
  vaultPolicy,
} from './policy.ts';

const GOOD = {
  schedule: { times: ['14:00', '02:00'], days: ['fri', 'mon'], timeZone: 'Europe/Berlin' },
  retention: { daily: 7, weekly: 4, monthly: 12, yearly: 3 },
};

function problems(input: unknown): string {
  try {
    validatePolicy(input);
  } catch (err) {
    assert.ok(err instanceof BadInputError);
    assert.equal(err.code, 'BAD_POLICY');
    return err.message;
  }
  assert.fail('the policy was accepted');
}

describe('vault policy', () => {
  it('normalises a good policy: times sorted, weekdays in week order, all seven is daily', () => {
    const policy = validatePolicy(GOOD);
    assert.deepEqual(policy.schedule, {
      times: ['02:00', '14:00'],
      days: ['mon', 'fri'],
      timeZone: 'Europe/Berlin',
    });
    assert.deepEqual(policy.retention, { daily: 7, weekly: 4, monthly: 12, yearly: 3 });
    const everyDay = {
      ...GOOD,
      schedule: { times: ['02:00'], days: ['sun', 'sat', 'fri', 'thu', 'wed', 'tue', 'mon'] },
    };
    assert.deepEqual(validatePolicy(everyDay).schedule, { times: ['02:00'], days: 'daily', timeZone: 'UTC' });
    assert.deepEqual(vaultPolicy(policyJson(policy)), policy, 'what is stored reads back the same');
    assert.equal(vaultPolicy(null), null);
  });

  it('names every bad field at once', () => {
    const message = problems({
      schedule: {
        times: ['25:00', '02:00', '02:00', 7],
        days: ['mon', 'someday'],
        timeZone: 'Mars/Olympus',
        at: 1,
      },
      retention: { daily: -1, weekly: 'four', monthly: 1189, hourly: 3 },
      colour: 'red',
    });
    for (const field of [
      'colour: unknown field',
      'schedule.at: unknown field',
      'schedule.times[0]: "25:00"',
      'schedule.times[3]',
      'schedule.times: a time is given twice',
      'schedule.days[1]: "someday"',
      'schedule.timeZone: "Mars/Olympus"',
      'retention.hourly: unknown field',
      'retention.daily: a whole number from 0 to 9999, not -1',
      'retention.weekly',
      'retention.monthly: a whole number from 0 to 1188',
    ]) {
      assert.ok(message.includes(field), `${field} in: ${message}`);
    }
  });

  it('refuses a policy that keeps nothing, or has no times', () => {
    assert.match(problems({ schedule: { times: ['02:00'] }, retention: { daily: 0 } }), /keep at least one/);
    assert.match(
      problems({ schedule: { times: [] }, retention: { daily: 1 } }),
      /schedule\.times: give at least one/,
    );
    assert.match(problems({ retention: { daily: 1 } }), /schedule: an object/);
    assert.match(problems([]), /must be a JSON object/);
  });

  it('a reduction names each count that would shrink; no policy is unlimited', () => {
    const old = validatePolicy(GOOD);
    const bigger = validatePolicy({
      ...GOOD,
      retention: { daily: 30, weekly: 4, monthly: 12, yearly: 3, last: 5 },
    });
    const smaller = validatePolicy({ ...GOOD, retention: { daily: 30, weekly: 2, monthly: 12, yearly: 0 } });
    assert.deepEqual(retentionReductions(old, bigger), []);
    assert.equal(isRetentionReduction(old, bigger), false);
    assert.deepEqual(retentionReductions(old, smaller), ['retention.weekly 4 → 2', 'retention.yearly 3 → 0']);
    assert.deepEqual(retentionReductions(bigger, old), ['retention.daily 30 → 7', 'retention.last 5 → 0']);
    assert.equal(isRetentionReduction(null, old), true, 'any policy expires more than none');
    assert.equal(isRetentionReduction(old, null), false);
  });
});

describe('vault policy sources', () => {
  const withSources = (sources: unknown) => ({ ...GOOD, sources });

  it('keeps source paths (tidied) and exclusions, and reads them back', () => {
    const policy = validatePolicy(
      withSources({ paths: ['/srv//data/', '/etc'], excludes: ['*.tmp', '/var/cache/**', '*.tmp'] }),
    );
    assert.deepEqual(policy.sources, { paths: ['/srv/data', '/etc'], excludes: ['*.tmp', '/var/cache/**'] });
    assert.deepEqual(vaultPolicy(policyJson(policy)), policy, 'what is stored reads back the same');
    assert.deepEqual(validatePolicy(withSources({ paths: ['/'] })).sources, { paths: ['/'], excludes: [] });
    assert.equal(validatePolicy(GOOD).sources, undefined, 'sources are optional');
    assert.equal('sources' in policyJson(validatePolicy(GOOD)), false);
  });

  it('names every bad source field at once', () => {
    const message = problems(
      withSources({
        paths: ['relative/path', '/srv/../etc', 7, '/a\u0000b', '/etc', '/etc/'],
        excludes: ['', '[abc', '#comment', 3],
        include: ['/x'],
      }),
    );
    for (const field of [
      'sources.include: unknown field',
      'sources.paths[0]: "relative/path" is not an absolute path',
      'sources.paths[1]: "/srv/../etc" has a "." or ".." segment',
      'sources.paths[2]: 7 is not a string',
      'sources.paths[3]: "/a\\u0000b" contains a NUL character',
      'sources.paths: a path is given twice',
      'sources.excludes[0]: "" is empty',
      'sources.excludes[1]: "[abc" is not a valid pattern',
      'sources.excludes[2]: "#comment" starts with #',
      'sources.excludes[3]: 3 is not a string',
    ]) {
      assert.ok(message.includes(field), `${field} in: ${message}`);
    }
    assert.match(problems(withSources({ paths: [] })), /sources\.paths: give at least one absolute path/);
    assert.match(problems(withSources(['/etc'])), /sources: an object \{paths, excludes\?\}/);
    assert.match(problems(withSources({ paths: ['/etc'], excludes: '*.tmp' })), /sources\.excludes: a list/);
  });

  it('changing sources is never a retention reduction (a locked vault accepts it)', () => {
    const old = validatePolicy(withSources({ paths: ['/etc', '/srv'], excludes: ['*.log'] }));
    const fewer = validatePolicy(withSources({ paths: ['/home'] }));
    assert.deepEqual(retentionReductions(old, fewer), []);
    assert.deepEqual(retentionReductions(old, validatePolicy(GOOD)), []);
  });
});
