import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Schedule } from './policy.ts';
import { nextRun, previousRun } from './schedule.ts';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('schedule', () => {
  const paris: Schedule = { times: ['02:00', '14:00'], days: 'daily', timeZone: 'Europe/Paris' };

  it('finds the runs around a moment in the policy time zone', () => {
    const at = Date.parse('2026-07-10T10:00:00Z'); // 12:00 in Paris (UTC+2)
    assert.equal(iso(previousRun(paris, at)), '2026-07-10T00:00:00.000Z');
    assert.equal(iso(nextRun(paris, at)), '2026-07-10T12:00:00.000Z');
    assert.equal(iso(previousRun(paris, Date.parse('2026-07-10T12:00:00Z'))), '2026-07-10T12:00:00.000Z');
  });

  it('keeps to the chosen weekdays', () => {
    const weekdays: Schedule = { times: ['22:00'], days: ['mon', 'fri'], timeZone: 'UTC' };
    const sunday = Date.parse('2026-11-22T12:00:00Z');
    assert.equal(iso(previousRun(weekdays, sunday)), '2026-11-20T22:00:00.000Z');
    assert.equal(iso(nextRun(weekdays, sunday)), '2026-11-23T22:00:00.000Z');
  });

  it('follows daylight saving: winter offset in winter, a skipped 02:30 runs at 03:30', () => {
    assert.equal(iso(nextRun(paris, Date.parse('2026-12-01T00:00:00Z'))), '2026-12-01T01:00:00.000Z');
    const gap: Schedule = { times: ['02:30'], days: 'daily', timeZone: 'Europe/Paris' };
    // 2026-03-29: clocks go from 02:00 to 03:00 in Paris.
    assert.equal(iso(nextRun(gap, Date.parse('2026-03-28T12:00:00Z'))), '2026-03-29T01:30:00.000Z');
    assert.equal(iso(nextRun(gap, Date.parse('2026-03-29T12:00:00Z'))), '2026-03-30T00:30:00.000Z');
  });

  it('runs a repeated fall-back hour once, at its first occurrence', () => {
    const twice: Schedule = { times: ['02:30'], days: 'daily', timeZone: 'Europe/Paris' };
    // 2026-10-25: clocks go from 03:00 back to 02:00 in Paris, so 02:30 happens twice.
    assert.equal(iso(nextRun(twice, Date.parse('2026-10-24T12:00:00Z'))), '2026-10-25T00:30:00.000Z');
    assert.equal(iso(previousRun(twice, Date.parse('2026-10-25T02:00:00Z'))), '2026-10-25T00:30:00.000Z');
    assert.equal(iso(nextRun(twice, Date.parse('2026-10-25T00:30:00Z'))), '2026-10-26T01:30:00.000Z');
  });
});
