import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkWorkloadDocument, parseWorkloadFile, WorkloadFileError } from './workload-file.ts';

const GOOD = `
workloads:
  - name: orders-db
    dataPaths: [/srv/orders, /srv/orders-wal]
    start: systemctl start orders-db
    stop: systemctl stop orders-db
    health: { type: tcp, host: 127.0.0.1, port: 5432, timeout: 5s }
    hooks: { freeze: "psql -c CHECKPOINT", thaw: "true" }
    primarySite: dc1
    replicaSite: dc2
    replication: { frequency: 5m, extraHourlyPoints: 24, appConsistentEveryHours: 4 }
  - name: web
    dataPaths: [/srv/web]
    start: ./start.sh
    stop: ./stop.sh
    health: { type: http, url: "http://127.0.0.1:8080/health" }
    primarySite: dc1
    replicaSite: dc2
    replication: { frequency: 30s }
`;

/** A one-workload document with `changes` merged into the workload (undefined deletes). */
function doc(changes: Record<string, unknown>): unknown {
  const base: Record<string, unknown> = {
    name: 'app',
    dataPaths: ['/srv/app'],
    start: 'start',
    stop: 'stop',
    health: { type: 'command', command: 'true' },
    primarySite: 'dc1',
    replicaSite: 'dc2',
    replication: { frequency: '15m' },
  };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return { workloads: [base] };
}

function problems(document: unknown): readonly string[] {
  try {
    checkWorkloadDocument(document);
  } catch (err) {
    assert.ok(err instanceof WorkloadFileError, String(err));
    assert.equal(err.code, 'BAD_WORKLOAD_FILE');
    assert.equal(err.kind, 'bad-input');
    return err.problems;
  }
  assert.fail('the document was accepted');
}

function refuses(changes: Record<string, unknown>, expected: RegExp): void {
  const found = problems(doc(changes));
  assert.ok(
    found.some((p) => expected.test(p)),
    `expected a problem like ${expected}, got ${JSON.stringify(found)}`,
  );
}

describe('workload files', () => {
  it('reads a good file, with defaults filled in', () => {
    const [db, web] = parseWorkloadFile(GOOD);
    assert.deepEqual(db, {
      name: 'orders-db',
      dataPaths: ['/srv/orders', '/srv/orders-wal'],
      start: 'systemctl start orders-db',
      stop: 'systemctl stop orders-db',
      health: { type: 'tcp', host: '127.0.0.1', port: 5432, timeoutMs: 5000 },
      hooks: { freeze: 'psql -c CHECKPOINT', thaw: 'true' },
      primarySite: 'dc1',
      replicaSite: 'dc2',
      replication: { frequency: '5m', extraHourlyPoints: 24, appConsistentEveryHours: 4 },
    });
    assert.deepEqual(web!.health, {
      type: 'http',
      url: 'http://127.0.0.1:8080/health',
      expectStatus: 200,
      timeoutMs: 10_000,
    });
    assert.equal(web!.hooks, null);
    assert.deepEqual(web!.replication, {
      frequency: '30s',
      extraHourlyPoints: 0,
      appConsistentEveryHours: null,
    });
  });

  it('names the line of a YAML syntax error, and refuses duplicate keys', () => {
    assert.throws(() => parseWorkloadFile('workloads:\n  - name: [a\n'), /line \d+: Flow sequence/);
    assert.throws(() => parseWorkloadFile('workloads: []\nworkloads: []\n'), WorkloadFileError);
  });

  it('needs a mapping with a non-empty workloads list, and knows its fields', () => {
    assert.match(problems([])[0]!, /^\(file\): must be a mapping/);
    assert.match(problems({ workloads: [] })[0]!, /^workloads: must be a list of one or more/);
    assert.match(problems({ workloads: [], extra: 1 })[0]!, /^\(file\)\.extra: unknown field/);
    refuses({ colour: 'blue' }, /^workloads\[0\]\.colour: unknown field; allowed: name, dataPaths/);
  });

  it('checks names of workloads and sites', () => {
    refuses({ name: 'Bad_Name' }, /^workloads\[0\]\.name: a workload name is 1 to 63 lowercase/);
    refuses({ name: undefined }, /^workloads\[0\]\.name:/);
    refuses({ primarySite: '-dc' }, /^workloads\[0\]\.primarySite: a site name is/);
    refuses({ replicaSite: 'dc1' }, /^workloads\[0\]\.replicaSite: must differ from primarySite/);
    const twice = doc({}) as { workloads: unknown[] };
    twice.workloads.push(twice.workloads[0]);
    assert.match(problems(twice)[0]!, /^workloads\[1\]\.name: "app" is declared twice/);
  });

  it('checks data paths: absolute, without "..", not twice, at least one', () => {
    refuses({ dataPaths: [] }, /^workloads\[0\]\.dataPaths: must be a list of one or more absolute paths/);
    refuses({ dataPaths: ['relative/x'] }, /^workloads\[0\]\.dataPaths\[0\]: must be an absolute path/);
    refuses({ dataPaths: ['/srv/../etc'] }, /^workloads\[0\]\.dataPaths\[0\]: must not contain "\.\."/);
    refuses({ dataPaths: ['/a', '/a'] }, /^workloads\[0\]\.dataPaths\[1\]: is listed twice/);
  });

  it('checks start and stop commands', () => {
    refuses({ start: '' }, /^workloads\[0\]\.start: must be text/);
    refuses({ stop: 42 }, /^workloads\[0\]\.stop: must be text/);
  });

  it('checks health probes of each type', () => {
    refuses({ health: { type: 'ping' } }, /^workloads\[0\]\.health\.type: must be one of tcp, http, command/);
    refuses(
      { health: { type: 'tcp', host: 'h', port: 70000 } },
      /health\.port: must be a whole number from 1 to 65535/,
    );
    refuses({ health: { type: 'tcp', port: 80 } }, /health\.host: must be text/);
    refuses(
      { health: { type: 'http', url: 'ftp://x' } },
      /health\.url: must be an http:\/\/ or https:\/\/ URL/,
    );
    refuses(
      { health: { type: 'http', url: 'http://x', expectStatus: 42 } },
      /health\.expectStatus: must be a whole number from 100 to 599/,
    );
    refuses({ health: { type: 'command' } }, /health\.command: must be text/);
    refuses(
      { health: { type: 'command', command: 'true', timeout: '1h' } },
      /health\.timeout: must be a duration from 100ms to 5m/,
    );
    refuses(
      { health: { type: 'command', command: 'true', url: 'x' } },
      /health\.url: unknown field; allowed: type, command, timeout/,
    );
  });

  it('checks freeze and thaw hooks: both or none', () => {
    refuses({ hooks: { freeze: 'f' } }, /^workloads\[0\]\.hooks\.thaw: must be text/);
    refuses({ hooks: 'f' }, /^workloads\[0\]\.hooks: must be a mapping with the fields freeze, thaw/);
  });

  it('allows only 30s, 5m or 15m replication', () => {
    refuses({ replication: { frequency: '1m' } }, /replication\.frequency: must be one of 30s, 5m, 15m/);
    refuses({ replication: { frequency: 30 } }, /replication\.frequency: must be one of 30s, 5m, 15m/);
    refuses({ replication: undefined }, /^workloads\[0\]\.replication: must be a mapping/);
  });

  it('allows 0 to 24 extra hourly points', () => {
    refuses(
      { replication: { frequency: '5m', extraHourlyPoints: 25 } },
      /extraHourlyPoints: must be a whole number from 0 to 24/,
    );
    refuses(
      { replication: { frequency: '5m', extraHourlyPoints: 1.5 } },
      /extraHourlyPoints: must be a whole number from 0 to 24/,
    );
    assert.equal(
      checkWorkloadDocument(doc({ replication: { frequency: '5m', extraHourlyPoints: 0 } }))[0]!.replication
        .extraHourlyPoints,
      0,
    );
  });

  it('allows application-consistent points every 1 to 24 hours, with hooks only', () => {
    const hooks = { freeze: 'f', thaw: 't' };
    refuses(
      { hooks, replication: { frequency: '5m', appConsistentEveryHours: 0 } },
      /appConsistentEveryHours: must be a whole number from 1 to 24/,
    );
    refuses(
      { replication: { frequency: '5m', appConsistentEveryHours: 2 } },
      /appConsistentEveryHours: needs hooks\.freeze and hooks\.thaw/,
    );
    const [ok] = checkWorkloadDocument(
      doc({ hooks, replication: { frequency: '5m', appConsistentEveryHours: 2 } }),
    );
    assert.equal(ok!.replication.appConsistentEveryHours, 2);
  });

  it('reports every problem at once, each with its path', () => {
    const found = problems(doc({ name: 'X', start: '', replication: { frequency: '1h' } }));
    assert.equal(found.length, 3, JSON.stringify(found));
  });
});
