import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { beforeEach, describe, it } from 'node:test';
import { certificateFingerprint, createCertificateAuthority } from '../../pki/index.ts';
import { type Catalog, type SiteRow, SqliteCatalog } from '../catalog/index.ts';
import { queueSiteCommand } from './commands.ts';
import { checkHeartbeat, checkSiteSilence, recordHeartbeat, siteDownKey } from './heartbeat.ts';
import {
  authenticateSiteAgent,
  createSite,
  issueSiteAgentCertificate,
  issueSiteCredentials,
  registerSiteAgent,
  renewSiteAgentCertificate,
} from './sites.ts';
import { drStatus } from './status.ts';
import { applyWorkloadDocument } from './workloads.ts';

// The control plane's service rules over a real (in-memory) SQLite catalog.

const T0 = Date.UTC(2026, 0, 1);
const ca = createCertificateAuthority({ commonName: 'test CA', validDays: 30, now: new Date(T0) });
const publicKeyPem = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();

const DOC = {
  workloads: [
    {
      name: 'app',
      dataPaths: ['/srv/app'],
      start: 'start',
      stop: 'stop',
      health: { type: 'command', command: 'true' },
      primarySite: 'dc1',
      replicaSite: 'dc2',
      replication: { frequency: '5m' },
    },
  ],
};

describe('DR control plane', () => {
  let catalog: Catalog;
  let dc1: SiteRow;
  let dc2: SiteRow;

  /** Registers a site agent for the site through a credentials file, at `now`. */
  async function register(site: SiteRow, now = T0) {
    const file = await issueSiteCredentials(catalog, site, {
      serverUrl: 'https://x',
      caPem: ca.certPem,
      now,
    });
    return registerSiteAgent(catalog, ca, { secret: file.secret, publicKey: publicKeyPem() }, now);
  }

  beforeEach(async () => {
    catalog = SqliteCatalog.memory();
    const vault = await catalog.createVault({ name: 'dr', region: 'local', createdAt: T0 });
    dc1 = await createSite(catalog, vault, 'dc1', T0);
    dc2 = await createSite(catalog, vault, 'dc2', T0);
  });

  it('issues site agent certificates for client and server use, naming the site, signed by the CA', () => {
    const cert = new X509Certificate(issueSiteAgentCertificate(ca, publicKeyPem(), 'dc1', T0));
    assert.ok(cert.verify(new X509Certificate(ca.certPem).publicKey));
    assert.match(cert.subject, /CN=site:dc1/);
    assert.match(cert.subject, /O=Offsite site agent/);
    assert.equal(cert.subjectAltName, 'DNS:dc1');
    assert.deepEqual([...(cert.keyUsage ?? [])].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.ok(Date.parse(cert.validTo) - T0 <= 90 * 86_400_000);
  });

  it('refuses bad site names and weak keys', async () => {
    const vault = await catalog.getVaultByName('dr');
    for (const name of ['DC1', '-dc', 'a'.repeat(51), 'dc_1']) {
      await assert.rejects(createSite(catalog, vault, name, T0), { code: 'BAD_SITE_NAME' });
    }
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    assert.throws(() => issueSiteAgentCertificate(ca, weak, 'dc1', T0), { code: 'WEAK_PUBLIC_KEY' });
  });

  it('registers a site agent once per credentials file', async () => {
    const file = await issueSiteCredentials(catalog, dc1, {
      serverUrl: 'https://x',
      caPem: ca.certPem,
      now: T0,
    });
    assert.equal(file.kind, 'offsite-site-credentials');
    const first = await registerSiteAgent(
      catalog,
      ca,
      { secret: file.secret, publicKey: publicKeyPem() },
      T0 + 1,
    );
    assert.equal(first.site.name, 'dc1');
    await assert.rejects(
      registerSiteAgent(catalog, ca, { secret: file.secret, publicKey: publicKeyPem() }, T0 + 2),
      {
        code: 'SITE_CREDENTIALS_USED',
      },
    );
  });

  it('renews a site agent certificate and forgets the old one; a deleted site opens nothing', async () => {
    const { certPem } = await register(dc1);
    const old = certificateFingerprint(certPem);
    assert.equal((await authenticateSiteAgent(catalog, old)).site.name, 'dc1');
    const renewed = await renewSiteAgentCertificate(catalog, ca, dc1, publicKeyPem(), T0 + 1);
    await assert.rejects(authenticateSiteAgent(catalog, old), { code: 'SITE_AGENT_NOT_REGISTERED' });
    const fresh = certificateFingerprint(renewed);
    assert.equal((await authenticateSiteAgent(catalog, fresh)).site.name, 'dc1');
    await catalog.deleteSite(dc1.id, T0 + 2);
    await assert.rejects(authenticateSiteAgent(catalog, fresh), { code: 'SITE_AGENT_NOT_REGISTERED' });
  });

  it('checks heartbeats and keeps only the health of workloads the site has', async () => {
    await applyWorkloadDocument(catalog, DOC, null, T0);
    assert.throws(() => checkHeartbeat({}), { code: 'BAD_FIELD', message: /^inventory:/ });
    assert.throws(() => checkHeartbeat({ inventory: {}, replication: [{ workload: 'app' }] }), {
      message: /^replication\[0\]\.consistent:/,
    });
    assert.throws(
      () =>
        checkHeartbeat({
          inventory: {},
          replication: [{ workload: 'app', consistent: true, lastPointAt: 'soon' }],
        }),
      { message: /^replication\[0\]\.lastPointAt: must be an ISO 8601 time/ },
    );
    const input = checkHeartbeat({
      inventory: { host: 'b' },
      replication: [
        {
          workload: 'app',
          lastPointAt: new Date(T0 - 90_000).toISOString(),
          lastPointId: 'p',
          consistent: true,
        },
        { workload: 'elsewhere', consistent: false },
      ],
    });
    const { workloads } = await recordHeartbeat(catalog, dc2, input, T0);
    assert.deepEqual(
      workloads.map((w) => [w.name, w.role, w.fencingEpoch, w.activeSite]),
      [['app', 'replica', 1, 'dc1']],
    );
    const status = await drStatus(catalog, null, T0 + 30_000);
    assert.equal(status.workloads[0]!.rpoSeconds, 120);
    assert.equal(status.workloads[0]!.replication!.reportedBy, 'dc2');
    assert.equal(status.workloads[0]!.replication!.consistent, true);
    assert.deepEqual(
      status.sites.map((s) => [s.name, s.state]),
      [
        ['dc1', 'never-heard'],
        ['dc2', 'up'],
      ],
    );
  });

  it("prefers the replica's health to the primary's", async () => {
    await applyWorkloadDocument(catalog, DOC, null, T0);
    const report = (id: string) =>
      checkHeartbeat({
        inventory: {},
        replication: [{ workload: 'app', lastPointId: id, consistent: false }],
      });
    await recordHeartbeat(catalog, dc2, report('at-replica'), T0);
    await recordHeartbeat(catalog, dc1, report('at-primary'), T0 + 1);
    const [app] = (await drStatus(catalog, null, T0 + 2)).workloads;
    assert.equal(app!.replication!.lastPointId, 'at-replica');
    assert.equal(app!.rpoSeconds, null);
  });

  it('marks a silent registered site down once, with one alert, and up at its next heartbeat', async () => {
    await register(dc1);
    const silence = 60_000;
    assert.deepEqual(await checkSiteSilence(catalog, T0 + silence, silence), [], 'not silent yet');
    const [down] = await checkSiteSilence(catalog, T0 + silence + 1, silence);
    assert.equal(down!.name, 'dc1', 'dc2 has no agent: never watched');
    assert.equal(down!.downSince, T0 + silence + 1);
    assert.deepEqual(await checkSiteSilence(catalog, T0 + 2 * silence, silence), []);
    const [alert] = await catalog.listAlerts(dc1.vaultId, { openOnly: true });
    assert.equal(alert!.dedupeKey, siteDownKey(dc1.id));
    assert.equal(alert!.occurrences, 1);
    const { site } = await recordHeartbeat(catalog, dc1, checkHeartbeat({ inventory: {} }), T0 + 3 * silence);
    assert.equal(site.downSince, null);
    assert.equal((await catalog.getAlert(alert!.id)).resolvedAt, T0 + 3 * silence);
  });

  it('lets a scoped caller see and use only the sites of its vault', async () => {
    const other = await catalog.createVault({ name: 'other', region: 'local', createdAt: T0 });
    await createSite(catalog, other, 'dc3', T0);
    await assert.rejects(applyWorkloadDocument(catalog, DOC, other.id, T0), {
      code: 'BAD_WORKLOAD_FILE',
      message: /workloads\[0\]\.primarySite: no site named "dc1"/,
    });
    const crossed = structuredClone(DOC);
    crossed.workloads[0]!.replicaSite = 'dc3';
    await assert.rejects(applyWorkloadDocument(catalog, crossed, null, T0), {
      message: /replicaSite: "dc3" belongs to another vault/,
    });
    await applyWorkloadDocument(catalog, DOC, null, T0);
    const scoped = await drStatus(catalog, other.id, T0);
    assert.deepEqual(
      scoped.sites.map((s) => s.name),
      ['dc3'],
    );
    assert.deepEqual(scoped.workloads, []);
  });

  it('queues only known command kinds, and probes only of the site’s workloads', async () => {
    await applyWorkloadDocument(catalog, DOC, null, T0);
    await assert.rejects(queueSiteCommand(catalog, dc1, { kind: 'rm -rf' }, T0), {
      message: /^kind: must be one of noop, probe/,
    });
    await assert.rejects(
      queueSiteCommand(catalog, dc1, { kind: 'probe', payload: { workload: 'nope' } }, T0),
      {
        message: /^payload\.workload: must be a workload of the site "dc1" \(app\)/,
      },
    );
    const queued = await queueSiteCommand(catalog, dc1, { kind: 'probe', payload: { workload: 'app' } }, T0);
    assert.equal(queued.state, 'queued');
  });
});
