// A vault server on loopback for end-to-end tests, with an injectable clock, and agents
// registered straight through the catalog (for tests of what comes after registration).
import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentState } from '../../src/agent/state.ts';
import { certificateFingerprint, issueCertificate } from '../../src/pki/index.ts';
import {
  hashToken,
  type LogEntry,
  newToken,
  type RunningServer,
  startServer,
} from '../../src/server/index.ts';
import { type Role, type ServerRow, SqliteCatalog, type VaultRow } from '../../src/vault/catalog/index.ts';
import { tempDir } from './cli.ts';
import { https, type RawOptions } from './https.ts';

type T = Parameters<typeof tempDir>[0] & { after: (fn: () => Promise<void>) => void };

/** Real time plus an offset that tests move: injected into the server as its clock. */
export interface TestClock {
  now: () => number;
  /** Moves the clock forward by ms. */
  advance: (ms: number) => void;
  /** Makes now() return ms at this moment (and move on in real time from there). */
  set: (ms: number) => void;
}

export function testClock(): TestClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance: (ms) => {
      offset += ms;
    },
    set: (ms) => {
      offset = ms - Date.now();
    },
  };
}

export interface TestVault {
  dir: string;
  server: RunningServer;
  token: string;
  logs: LogEntry[];
  clock: TestClock;
  /** OFFSITE_SERVER, OFFSITE_TOKEN and OFFSITE_CA_CERT for the CLI. */
  env: Record<string, string>;
  /** An HTTPS request to the server as the admin (or as given in options). */
  call: (path: string, options?: RawOptions) => ReturnType<typeof https>;
}

export async function startTestVault(
  t: T,
  options: { regions?: string[]; background?: boolean; clock?: TestClock } = {},
): Promise<TestVault> {
  const dir = await tempDir(t, 'offsite-vault-');
  const logs: LogEntry[] = [];
  const clock = options.clock ?? testClock();
  const server = await startServer({
    dataDir: join(dir, 'data'),
    listen: '127.0.0.1:0',
    regions: (options.regions ?? ['local']).map((name) => ({
      name,
      url: `file://${join(dir, 'regions', name)}`,
    })),
    log: (e) => logs.push(e),
    now: clock.now,
    background: options.background ?? false,
  });
  t.after(() => server.close());
  const token = (await readFile(server.files.adminToken, 'utf8')).trim();
  const env = { OFFSITE_SERVER: server.url, OFFSITE_TOKEN: token, OFFSITE_CA_CERT: server.files.caCert };
  const call = (path: string, o: RawOptions = {}) => https(server.caPem, server.url + path, { token, ...o });
  return { dir, server, token, logs, clock, env, call };
}

export interface TestAgent {
  server: ServerRow;
  vault: VaultRow;
  certPem: string;
  keyPem: string;
  /** An HTTPS request with this agent's client certificate. */
  call: (path: string, options?: RawOptions) => ReturnType<typeof https>;
}

/** Creates the vault if missing and registers a server in it directly in the catalog. */
export async function registerTestAgent(
  v: TestVault,
  vaultName: string,
  serverName: string,
): Promise<TestAgent> {
  const catalog = SqliteCatalog.open(v.server.files.catalog);
  try {
    const now = v.clock.now();
    const vault =
      (await catalog.listVaults()).find((x) => x.name === vaultName) ??
      (await catalog.createVault({ name: vaultName, region: v.server.regions[0]!.name, createdAt: now }));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const certPem = issueCertificate({
      caCertPem: v.server.caPem,
      caKeyPem: await readFile(v.server.files.caKey, 'utf8'),
      publicKey: privateKey,
      commonName: serverName,
      usage: 'client',
      validDays: 30,
      now: new Date(now),
    });
    const server = await catalog.registerServer({
      vaultId: vault.id,
      name: serverName,
      certFingerprint: certificateFingerprint(certPem),
      certNotAfter: now + 30 * 86_400_000,
      via: 'credentials',
      registeredAt: now,
    });
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const call = (path: string, o: RawOptions = {}) =>
      https(v.server.caPem, v.server.url + path, { cert: certPem, key: keyPem, ...o });
    return { server, vault, certPem, keyPem, call };
  } finally {
    await catalog.close();
  }
}

/** The state an agent process would load, for a test agent, kept in `dir`. */
export function agentStateOf(v: TestVault, agent: TestAgent, dir: string): AgentState {
  return {
    dir,
    info: {
      version: 1,
      server: v.server.url,
      vault: { id: agent.vault.id, name: agent.vault.name },
      serverId: agent.server.id,
      name: agent.server.name,
      via: 'credentials',
      registeredAt: new Date(v.clock.now()).toISOString(),
    },
    caPem: v.server.caPem,
    certPem: agent.certPem,
    keyPem: agent.keyPem,
  };
}

/** A fresh API token of `role`, limited to one vault when `vaultName` is given. */
export async function tokenFor(v: TestVault, role: Role, vaultName?: string): Promise<string> {
  const token = newToken();
  const catalog = SqliteCatalog.open(v.server.files.catalog);
  try {
    const vaultId = vaultName === undefined ? null : (await catalog.getVaultByName(vaultName)).id;
    await catalog.createToken({
      tokenHash: hashToken(token),
      name: vaultName === undefined ? role : `${role} of ${vaultName}`,
      role,
      vaultId,
      createdAt: v.clock.now(),
      expiresAt: null,
    });
  } finally {
    await catalog.close();
  }
  return token;
}
