// Site agents played by the test: real HTTPS clients holding real site-agent certificates
// (registered through the real credentials-file route) that poll the real site-agent
// routes and answer commands per the DR command contract (/work/helpers/dr-commands.md),
// recording what they were told in one global order. The real site agent is
// src/dr/agent; these let a test decide each answer (hold one back, fail one, never poll).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { https, type RawOptions } from './https.ts';

export interface Server {
  url: string;
  caPem: string;
}

export interface SeenCommand {
  seq: number;
  site: string;
  id: string;
  kind: string;
  // biome-ignore lint/suspicious/noExplicitAny: payloads under test
  payload: any;
}

export type Answer = { state: 'succeeded' | 'failed'; result: Record<string, unknown> } | 'hold';

let order = 0;

/** The answer a well-behaved site agent gives, or a FENCED refusal of a stale start. */
function contractAnswer(site: PlayedSite, c: SeenCommand, now: number): Answer {
  const ok = (data: Record<string, unknown> = {}): Answer => ({
    state: 'succeeded',
    result: { steps: [{ name: c.kind, ok: true, detail: 'done', ms: 1 }], ...data },
  });
  const w = c.payload.workload as string;
  switch (c.kind) {
    case 'fence':
      site.epochs.set(w, Math.max(site.epochs.get(w) ?? 0, c.payload.epoch));
      return ok({ fenced: true });
    case 'start':
      if (c.payload.epoch < (site.epochs.get(w) ?? 0)) {
        return {
          state: 'failed',
          result: {
            steps: [{ name: 'start', ok: false, detail: `FENCED: epoch ${c.payload.epoch} is stale`, ms: 1 }],
          },
        };
      }
      site.running.add(w);
      return ok({ healthyAt: new Date(now).toISOString() });
    case 'stop':
      site.running.delete(w);
      return ok({ stopped: true });
    case 'probe':
      return ok({ healthy: !site.unhealthy.has(w) });
    case 'replicate-now':
      return ok({ pointId: `p-${now}`, pointTime: new Date(now).toISOString(), consistency: 'crash' });
    case 'materialise':
      return ok({
        pointId: 'p1',
        pointTime: new Date(site.pointTime ?? now).toISOString(),
        consistency: 'crash',
      });
    case 'cleanup-test':
      return ok({ leftovers: site.leftovers });
    case 'script':
      return site.scriptExit === 0
        ? ok({ exitCode: 0, output: '' })
        : {
            state: 'failed',
            result: {
              steps: [{ name: 'script', ok: false, detail: `SCRIPT_FAILED: exit ${site.scriptExit}`, ms: 1 }],
              exitCode: site.scriptExit,
            },
          };
    default:
      return ok();
  }
}

export class PlayedSite {
  readonly name: string;
  readonly seen: SeenCommand[] = [];
  readonly epochs = new Map<string, number>();
  readonly running = new Set<string>();
  readonly unhealthy = new Set<string>();
  leftovers: string[] = [];
  scriptExit = 0;
  /** The time of the point `materialise` answers (default: now). */
  pointTime: number | undefined;
  /** Decides an answer before the contract does; undefined: the contract's. */
  override: ((c: SeenCommand) => Answer | undefined) | undefined;
  /** false: the site is down (it neither polls nor answers). */
  up = true;
  readonly #server: () => Server;
  readonly #cert: string;
  readonly #key: string;
  readonly #now: () => number;
  readonly #held: SeenCommand[] = [];

  constructor(name: string, server: () => Server, cert: string, key: string, now: () => number) {
    this.name = name;
    this.#server = server;
    this.#cert = cert;
    this.#key = key;
    this.#now = now;
  }

  call(path: string, options: RawOptions = {}) {
    const s = this.#server();
    return https(s.caPem, s.url + path, { cert: this.#cert, key: this.#key, ...options });
  }

  // biome-ignore lint/suspicious/noExplicitAny: the heartbeat answer under test
  async heartbeat(): Promise<any> {
    const r = await this.call('/v1/site-agent/heartbeat', {
      method: 'POST',
      body: JSON.stringify({ inventory: { host: this.name }, replication: [] }),
    });
    assert.equal(r.status, 200, r.text);
    return r.json();
  }

  /** One poll: new commands are recorded, then answered (held ones too, unless still held). */
  async poll(): Promise<void> {
    if (!this.up) return;
    const r = await this.call('/v1/site-agent/commands');
    assert.equal(r.status, 200, r.text);
    for (const c of r.json().commands as { id: string; kind: string; payload: unknown }[]) {
      if (this.seen.some((s) => s.id === c.id)) continue;
      const seen = { seq: order++, site: this.name, id: c.id, kind: c.kind, payload: c.payload };
      this.seen.push(seen);
      this.#held.push(seen);
    }
    for (const c of [...this.#held]) {
      const answer = this.override?.(c) ?? contractAnswer(this, c, this.#now());
      if (answer === 'hold') continue;
      this.#held.splice(this.#held.indexOf(c), 1);
      const done = await this.call(`/v1/site-agent/commands/${c.id}/result`, {
        method: 'POST',
        body: JSON.stringify(answer),
      });
      assert.equal(done.status, 200, done.text);
    }
  }

  kinds(workload?: string): string[] {
    return this.seen
      .filter((c) => workload === undefined || c.payload.workload === workload)
      .map((c) => c.kind);
  }
}

/** Issues a credentials file through the API and registers a played site agent with it. */
export async function playSite(
  admin: (path: string, options?: RawOptions) => ReturnType<typeof https>,
  server: () => Server,
  name: string,
  now: () => number,
): Promise<PlayedSite> {
  const file = await admin(`/v1/sites/${name}/credentials`, { method: 'POST' });
  assert.equal(file.status, 201, file.text);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const s = server();
  const registered = await https(s.caPem, `${s.url}/v1/site-agent/register`, {
    method: 'POST',
    body: JSON.stringify({
      secret: file.json().secret,
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    }),
  });
  assert.equal(registered.status, 201, registered.text);
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return new PlayedSite(name, server, registered.json().certificate, key, now);
}
