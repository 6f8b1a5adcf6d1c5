// The API client over real TLS on loopback: a kept-alive connection the server closes
// just as the next request goes out is retried once on a fresh connection, and nothing
// else is retried.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Agent, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createCertificateAuthority, issueCertificate } from '../pki/index.ts';
import { ServerClient } from './client.ts';

function tls() {
  const ca = createCertificateAuthority({ commonName: 'client test CA', validDays: 2 });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cert = issueCertificate({
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    publicKey: privateKey,
    commonName: 'localhost',
    usage: 'server',
    ipAddresses: ['127.0.0.1'],
    validDays: 2,
  });
  return { caPem: ca.certPem, cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** Answers the first request of each connection; resets the connection at the second. */
async function resettingServer(
  t: { after: (fn: () => unknown) => void },
  caPem: string,
  cert: string,
  key: string,
) {
  const served = new WeakMap<object, number>();
  let answered = 0;
  let refused = 0;
  const server = createServer({ cert, key }, (req, res) => {
    const count = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, count);
    if (req.url === '/broken') refused++;
    if (count > 1 || req.url === '/broken') {
      req.socket.destroy();
      return;
    }
    answered++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ answered }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: caPem });
  t.after(() => agent.destroy());
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    agent,
    refused: () => refused,
  };
}

describe('ServerClient', () => {
  it('sends a request once more when a reused connection was reset before it arrived', async (t) => {
    const { caPem, cert, key } = tls();
    const s = await resettingServer(t, caPem, cert, key);
    const client = new ServerClient({ server: s.url, caPem, agent: s.agent });
    assert.deepEqual(await client.call('GET', '/first'), { answered: 1 });
    assert.deepEqual(
      await client.call('POST', '/second', { x: 1 }),
      { answered: 2 },
      'answered on a new connection',
    );
  });

  it('does not retry a reset on a fresh connection: the request may have been received', async (t) => {
    const { caPem, cert, key } = tls();
    const s = await resettingServer(t, caPem, cert, key);
    const client = new ServerClient({ server: s.url, caPem, agent: new Agent({ ca: caPem }) });
    await assert.rejects(client.call('POST', '/broken', {}), { code: 'SERVER_UNREACHABLE' });
    assert.equal(s.refused(), 1);
  });
});
