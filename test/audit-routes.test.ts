// Every route that can change something (not GET or HEAD) is either audited or exempt with
// a reason, by audit-routes-map.ts: a new route that is in neither fails here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AUDITED_ROUTES, isExemption } from '../src/server/audit-routes-map.ts';
import { routeTable } from '../src/server/index.ts';

const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

test('every non-GET route is audited or explicitly exempt', () => {
  const changing = routeTable().filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
  const missing = changing.map(key).filter((k) => AUDITED_ROUTES[k] === undefined);
  assert.deepEqual(
    missing,
    [],
    'add these to src/server/audit-routes-map.ts (a rule, or an exemption and why)',
  );
  assert.ok(changing.length > 30, 'the route table was enumerated');
});

test('the map names only routes that exist, and every exemption says why', () => {
  const known = new Set(routeTable().map(key));
  const stale = Object.keys(AUDITED_ROUTES).filter((k) => !known.has(k));
  assert.deepEqual(stale, [], 'remove these from the map, or fix their METHOD /path');
  for (const [k, rule] of Object.entries(AUDITED_ROUTES)) {
    if (isExemption(rule)) assert.ok(rule.exempt.length > 10, `${k}: say why it is exempt`);
    else assert.match(rule.action, /^[a-z-]+\.[a-z-]+$/, `${k}: action names look like "vault.create"`);
  }
});
