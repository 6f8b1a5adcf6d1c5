import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createCertificate, createCertificateAuthority } from '../../pki/index.ts';
import { drLayout } from './layout.ts';
import { PeerWatch, peerTargets, probePeer } from './peer-watch.ts';
import { ReplicationManager, siteAgentName } from './replication.ts';

// The witness report against a real replication listener: a TLS handshake with the
// peer's site agent certificate is hearing it; a wrong certificate or nobody listening
// is not, and the silence is reported as an age.

const ca = createCertificateAuthority({ commonName: 'test vault CA', validDays: 30 });

function tlsOf(site: string, authority = ca) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const certPem = createCertificate({
    subject: { commonName: siteAgentName(site) },
    publicKey: privateKey,
    signingKey: createPrivateKey(authority.keyPem),
    issuerCertPem: authority.certPem,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    extendedKeyUsage: ['clientAuth', 'serverAuth'],
  });
  return {
    caPem: authority.certPem,
    certPem,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

test('a peer is heard by a TLS handshake proving its site agent certificate; its silence is reported as an age', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'offsite-peer-watch-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const dc1 = new ReplicationManager({
    site: 'dc1',
    tls: tlsOf('dc1'),
    layout: drLayout(join(dir, 'dc1')),
    healthFile: join(dir, 'health.json'),
    host: '127.0.0.1',
    port: 0,
    log: () => {},
  });
  const address = await dc1.listen();
  t.after(() => dc1.close());
  const mine = tlsOf('dc2');

  assert.equal(await probePeer(mine, 'dc1', address, 5000), true);
  assert.equal(await probePeer(mine, 'dc3', address, 5000), false, 'dc1 is not dc3');
  const stranger = createCertificateAuthority({ commonName: 'another CA', validDays: 30 });
  assert.equal(await probePeer(tlsOf('dc2', stranger), 'dc1', address, 5000), false, 'not our CA');

  let now = 1_000_000;
  const watch = new PeerWatch({ tls: () => mine, everyMs: 10_000, now: () => now });
  watch.setTargets([{ site: 'dc1', address }]);
  now += 4000;
  await watch.probe();
  assert.deepEqual(watch.report(), [{ site: 'dc1', address, silentMs: 0 }]);
  await dc1.close();
  now += 5000;
  await watch.probe(); // not due yet: no new round
  assert.equal(watch.report()[0]!.silentMs, 5000);
  now += 20_000;
  await watch.probe(); // due, and nobody answers
  assert.equal(watch.report()[0]!.silentMs, 25_000);
  watch.setTargets([]);
  assert.deepEqual(watch.report(), []);
});

test('the peers watched: the other site of each workload, then what the server adds, never itself', () => {
  const workloads = [
    { primarySite: 'dc1', replicaSite: 'dc2', peerAddress: '10.0.0.2:7443' },
    { primarySite: 'dc3', replicaSite: 'dc1', peerAddress: '10.0.0.3:7443' },
    { primarySite: 'dc1', replicaSite: 'dc4', peerAddress: null },
  ];
  const extra = [
    { site: 'dc5', address: '10.0.0.5:7443' },
    { site: 'dc1', address: '10.0.0.1:7443' },
    { site: 'dc2', address: 'elsewhere:1' },
  ];
  assert.deepEqual(peerTargets('dc1', workloads, extra), [
    { site: 'dc2', address: '10.0.0.2:7443' },
    { site: 'dc3', address: '10.0.0.3:7443' },
    { site: 'dc5', address: '10.0.0.5:7443' },
  ]);
});
