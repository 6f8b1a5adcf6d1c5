import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide, type Evidence, type WitnessView } from './decide.ts';

const MIN = 60_000;
const NOW = 10_000_000;
const option = { enabled: true, afterSilenceMs: 2 * MIN, witnesses: ['replica'] };

function replica(over: Partial<WitnessView> = {}): WitnessView {
  // Reported 5 s ago; had not heard the site for 3 minutes then.
  return {
    witness: 'replica',
    site: 'dc2',
    reportedAt: NOW - 5000,
    lastHeardAt: NOW - 5000 - 3 * MIN,
    ...over,
  };
}

function evidence(over: Partial<Evidence> = {}): Evidence {
  return {
    now: NOW,
    option,
    watched: { site: 'dc1', lastHeardAt: NOW - 3 * MIN },
    protectedState: 'protected',
    runInProgress: null,
    outageRun: null,
    witnesses: [replica()],
    ...over,
  };
}

test('the site silent to the server and to the replica: fail over, the outage dated by its last heartbeat', () => {
  assert.deepEqual(decide(evidence()), { action: 'fail-over', outageSince: NOW - 3 * MIN });
});

test('a site heard within afterSilence (the limit included) is left alone', () => {
  for (const silent of [0, MIN, 2 * MIN]) {
    const d = decide(evidence({ watched: { site: 'dc1', lastHeardAt: NOW - silent } }));
    assert.deepEqual(d, { action: 'none', why: 'site-heard' });
  }
});

test('the replica still hears the site: withheld, naming the witness', () => {
  const d = decide(evidence({ witnesses: [replica({ lastHeardAt: NOW - 6000 })] }));
  assert.equal(d.action, 'withhold');
  assert.equal(d.action === 'withhold' && d.reason, 'WITNESS_HEARS_SITE');
  assert.equal(d.action === 'withhold' && d.witness, 'replica');
  assert.match(d.action === 'withhold' ? d.message : '', /replica \(dc2\) still hears site "dc1"/);
});

test('a witness that lost the site about when the server did has not had its say yet: wait, no alert', () => {
  // The server last heard dc1 2m05s ago, the replica 5 s later; its report 3 s ago said 1m57s.
  const watched = { site: 'dc1', lastHeardAt: NOW - 2 * MIN - 5000 };
  const late = replica({ lastHeardAt: NOW - 2 * MIN, reportedAt: NOW - 3000 });
  const d = decide(evidence({ watched, witnesses: [late] }));
  assert.deepEqual(d, { action: 'none', why: 'evidence-pending' });
});

test('a witness not heard recently, or not watching the site, or not a site at all: withheld', () => {
  const cases: [WitnessView, string][] = [
    [replica({ reportedAt: NOW - MIN - 1, lastHeardAt: NOW - 5 * MIN }), 'stale'],
    [replica({ lastHeardAt: null }), 'not watching'],
    [replica({ reportedAt: null, lastHeardAt: null }), 'never reported'],
    [{ witness: 'site:dc9', site: null, reportedAt: null, lastHeardAt: null }, 'unknown site'],
  ];
  for (const [view, what] of cases) {
    const d = decide(evidence({ witnesses: [view] }));
    assert.equal(d.action === 'withhold' && d.reason, 'WITNESS_UNAVAILABLE', what);
  }
});

test('a required third witness that still hears the site withholds even when the replica agrees', () => {
  const third: WitnessView = {
    witness: 'site:dc3',
    site: 'dc3',
    reportedAt: NOW - 1000,
    lastHeardAt: NOW - 2000,
  };
  const d = decide(evidence({ witnesses: [replica(), third] }));
  assert.equal(d.action === 'withhold' && d.witness, 'site:dc3');
  const agreeing = { ...third, lastHeardAt: NOW - 1000 - 2 * MIN - 1 };
  assert.equal(decide(evidence({ witnesses: [replica(), agreeing] })).action, 'fail-over');
});

test('never twice for one outage: an unplanned run since the last heartbeat settles it', () => {
  assert.deepEqual(decide(evidence({ outageRun: 'r1' })), { action: 'none', why: 'outage-handled' });
  assert.deepEqual(decide(evidence({ outageRun: 'r1', protectedState: 'failed-over' })), {
    action: 'none',
    why: 'outage-handled',
  });
});

test('failed over and not reprotected, split over sites, or a run going: withheld with the reason', () => {
  const reason = (e: Evidence) => {
    const d = decide(e);
    return d.action === 'withhold' ? d.reason : d.action;
  };
  assert.equal(reason(evidence({ protectedState: 'failed-over' })), 'NOT_PROTECTED');
  assert.equal(reason(evidence({ protectedState: 'split' })), 'PLAN_SPLIT');
  assert.equal(reason(evidence({ runInProgress: 'r2' })), 'RUN_IN_PROGRESS');
});
