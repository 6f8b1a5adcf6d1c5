// A small real workload for disaster recovery tests: a node HTTP service that appends a
// numbered row to rows.txt under its data path every 50 ms (fsynced) and serves the count.
// Its data path is APP_DATA below $OFFSITE_DR_ROOT, its port APP_PORT + $OFFSITE_DR_PORT_OFFSET,
// as a site agent's start command gives them; SIGTERM ends it cleanly.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';

const APP = `
import { createServer } from 'node:http';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
const data = (process.env.OFFSITE_DR_ROOT ?? '') + process.env.APP_DATA;
const port = Number(process.env.APP_PORT) + Number(process.env.OFFSITE_DR_PORT_OFFSET || 0);
mkdirSync(data, { recursive: true });
const file = data + '/rows.txt';
let rows = existsSync(file) ? readFileSync(file, 'utf8').split('\\n').filter(Boolean).length : 0;
const fd = openSync(file, 'a');
const timer = setInterval(() => {
  rows++;
  writeSync(fd, 'row ' + rows + '\\n');
  fsyncSync(fd);
}, 50);
const server = createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  if (req.url === '/count') return res.end(JSON.stringify({ rows, pid: process.pid, data }));
  res.statusCode = 404;
  res.end();
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  clearInterval(timer);
  closeSync(fd);
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
`;

export interface TestWorkload {
  name: string;
  /** The data path (absolute), as the primary site holds it. */
  data: string;
  port: number;
  /** The workload as the workloads file declares it (JSON form of the YAML). */
  spec: Record<string, unknown>;
}

/** A free TCP port on loopback (and `spare` more above it free too, for test offsets). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function makeWorkload(dir: string, name: string, sites = { primary: 'dc1', replica: 'dc2' }) {
  await mkdir(dir, { recursive: true });
  const app = join(dir, 'app.mjs');
  await writeFile(app, APP);
  const data = join(dir, name, 'data');
  await mkdir(data, { recursive: true });
  const port = await freePort();
  const spec = {
    name,
    dataPaths: [data],
    start: `APP_DATA='${data}' APP_PORT=${port} exec '${process.execPath}' '${app}'`,
    // Only the copy this site agent started: never another site's copy on this shared machine.
    stop: '[ -z "$OFFSITE_DR_PID" ] || kill -TERM "$OFFSITE_DR_PID"',
    health: { type: 'http', url: `http://127.0.0.1:${port}/health`, timeout: '2s' },
    primarySite: sites.primary,
    replicaSite: sites.replica,
    replication: { frequency: '30s', extraHourlyPoints: 2 },
  };
  return { name, data, port, spec, app } satisfies TestWorkload & { app: string };
}

/** GET /count of a copy on `port`: its row count, or undefined when nothing answers. */
export function rowsServed(port: number): Promise<{ rows: number; pid: number; data: string } | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/count', timeout: 2000, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve(res.statusCode === 200 ? JSON.parse(body) : undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** The rows in a copy's file: their numbers, in order. */
export async function rowsInFile(data: string): Promise<number[]> {
  const text = await readFile(join(data, 'rows.txt'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => Number(line.split(' ')[1]));
}
