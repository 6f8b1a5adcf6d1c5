import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { createCertificate, createCertificateAuthority } from '../../pki/index.ts';
import { materialise } from '../replication/index.ts';
import type { Assignment } from './commands.ts';
import { drLayout } from './layout.ts';
import { ReplicationManager, siteAgentName } from './replication.ts';

const ca = createCertificateAuthority({ commonName: 'test vault CA', validDays: 30 });

function tlsOf(site: string) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const certPem = createCertificate({
    subject: { commonName: siteAgentName(site) },
    publicKey: privateKey,
    signingKey: createPrivateKey(ca.keyPem),
    issuerCertPem: ca.certPem,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    extendedKeyUsage: ['clientAuth', 'serverAuth'],
  });
  return {
    caPem: ca.certPem,
    certPem,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

async function temp(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'offsite-dr-repl-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function manager(t: TestContext, dir: string, site: string): ReplicationManager {
  const m = new ReplicationManager({
    site,
    tls: tlsOf(site),
    layout: drLayout(join(dir, site)),
    healthFile: join(dir, site, 'replication-health.json'),
    host: '127.0.0.1',
    port: 0,
    log: () => {},
  });
  t.after(() => m.close());
  return m;
}

function assignment(
  site: string,
  data: string,
  sites: { primary: string; replica: string; active: string; epoch: number },
  peer: string,
): Assignment {
  return {
    name: 'app',
    version: 1,
    role: sites.primary === site ? 'primary' : 'replica',
    fencingEpoch: sites.epoch,
    activeSite: sites.active,
    primarySite: sites.primary,
    replicaSite: sites.replica,
    peerAddress: peer,
    spec: { dataPaths: [data], replication: { frequency: '15m', extraHourlyPoints: 1 } },
  };
}

describe('replication driven by the assignments', () => {
  it('sends from the active primary, stops while failed over, and reverses with the same key after reprotect', async (t) => {
    const dir = await temp(t);
    const data = join(dir, 'data');
    await mkdir(data);
    await writeFile(join(data, 'rows.txt'), 'row 1\n');
    const dc1 = manager(t, dir, 'dc1');
    const dc2 = manager(t, dir, 'dc2');
    const [a1, a2] = [await dc1.listen(), await dc2.listen()];
    const forward = { primary: 'dc1', replica: 'dc2', active: 'dc1', epoch: 1 };
    await dc2.apply([assignment('dc2', data, forward, a1)]);
    await dc1.apply([assignment('dc1', data, forward, a2)]);
    const first = await dc1.replicateNow('app');
    await assert.rejects(dc2.replicateNow('app'), { code: 'NOT_REPLICATING' });
    const health = JSON.parse(await readFile(join(dir, 'dc1', 'replication-health.json'), 'utf8'));
    assert.equal(health[0].lastPoint.id, first.point.id);

    // Failed over to dc2, not reprotected yet: nobody sends (the fenced dc1 least of all).
    const failedOver = { ...forward, active: 'dc2', epoch: 2 };
    await dc1.apply([assignment('dc1', data, failedOver, a2)]);
    await dc2.apply([assignment('dc2', data, failedOver, a1)]);
    await assert.rejects(dc1.replicateNow('app'), { code: 'NOT_REPLICATING' });
    await assert.rejects(dc2.replicateNow('app'), { code: 'NOT_REPLICATING' });

    // Reprotected: dc2 is the primary and sends to dc1 with the key it received.
    await writeFile(join(data, 'rows.txt'), 'row 1\nrow 2\n');
    const reverse = { primary: 'dc2', replica: 'dc1', active: 'dc2', epoch: 2 };
    await dc1.apply([assignment('dc1', data, reverse, a2)]);
    await dc2.apply([assignment('dc2', data, reverse, a1)]);
    const back = await dc2.replicateNow('app');
    const layout1 = drLayout(join(dir, 'dc1'));
    const layout2 = drLayout(join(dir, 'dc2'));
    assert.equal(
      await readFile(join(layout2.sender('app'), 'key'), 'utf8'),
      await readFile(join(layout1.sender('app'), 'key'), 'utf8'),
    );
    const copy = join(dir, 'copy');
    const done = await materialise({
      root: layout1.replicaRoot,
      workload: 'app',
      point: 'latest',
      target: copy,
    });
    assert.equal(done.point.id, back.point.id);
    assert.equal(await readFile(join(copy, data, 'rows.txt'), 'utf8'), 'row 1\nrow 2\n');
  });
});
