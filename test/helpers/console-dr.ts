// The disaster recovery world of the console's browser test: the light two-site world of
// dr-workload-sites.ts (real vault server, two real site agents, small node workloads),
// with workload ports chosen so a test copy's ports (+ the default offset) are free too,
// a recovery plan of two groups with a manual action, and the server's failover runner
// driven as its background task would (the test vault runs with background tasks off).
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeWorkload } from './dr-workload.ts';
import type { DrWorld, Json } from './dr-workload-sites.ts';

/** The port offset the server gives a test failover started without one. */
export const DEFAULT_TEST_OFFSET = 10_000;

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A loopback port that is free, and free `offset` above too (below the ephemeral range). */
export async function freePortWithOffset(offset: number): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if ((await canListen(port)) && (await canListen(port + offset))) return port;
  }
  throw new Error('no free pair of ports found');
}

/** A test workload (see dr-workload.ts) on a port whose test copy's port is free as well. */
export async function consoleWorkload(dir: string, name: string) {
  const w = await makeWorkload(dir, name);
  const port = await freePortWithOffset(DEFAULT_TEST_OFFSET);
  const spec = {
    ...w.spec,
    start: w.spec.start.replace(`APP_PORT=${w.port} `, `APP_PORT=${port} `),
    health: { ...w.spec.health, url: `http://127.0.0.1:${port}/health` },
  };
  assert.notEqual(spec.start, w.spec.start);
  return { ...w, port, spec };
}

export const SHOP_PLAN = {
  name: 'shop',
  description: 'The web shop: its ledger first, then the shop in front of it.',
  groups: [
    {
      name: 'data',
      workloads: ['ledger'],
      post: [
        {
          type: 'manual',
          name: 'check-orders',
          message: 'Open the test copy of the ledger and check that the last orders are there.',
          onlyFor: ['test'],
        },
      ],
    },
    {
      name: 'apps',
      workloads: ['shop'],
      pre: [
        {
          type: 'script',
          name: 'switch-dns',
          site: 'dc2',
          command: 'true',
          onlyFor: ['planned', 'unplanned'],
        },
      ],
    },
  ],
};

export async function put(world: DrWorld, path: string, body: unknown): Promise<Json> {
  const r = await world.v.call(path, { method: 'PUT', body: JSON.stringify(body) });
  assert.equal(r.status, 200, r.text);
  return r.json();
}

/** The server's failover runner, every 300 ms, until the test ends. */
export function driveRuns(world: DrWorld, t: { after: (fn: () => Promise<void>) => void }): void {
  let on = true;
  const loop = (async () => {
    while (on) {
      await world.v.server.background.runNow('dr-plan-runs').catch(() => {});
      await sleep(300);
    }
  })();
  t.after(async () => {
    on = false;
    await loop;
  });
}
