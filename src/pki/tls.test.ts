import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { type CertificateAndKey, createCertificateAuthority, issueCertificate } from './index.ts';

type Identity = { cert: string; key: string };

function leaf(ca: CertificateAndKey, usage: 'client' | 'server', privateKey: KeyObject): Identity {
  const cert = issueCertificate({
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    publicKey: privateKey,
    commonName: usage === 'server' ? 'vault' : 'agent-1',
    usage,
    dnsNames: usage === 'server' ? ['localhost'] : undefined,
    ipAddresses: usage === 'server' ? ['127.0.0.1'] : undefined,
    validDays: 1,
  });
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

const ecKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const rsaKey = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

describe('mutual TLS with certificates from our CA', () => {
  let ca: CertificateAndKey;
  let server: Server;
  let port: number;
  const seenByServer: { authorized: boolean; peer: string }[] = [];
  const refusedByServer: (string | undefined)[] = [];

  before(async () => {
    ca = createCertificateAuthority({ commonName: 'Test Vault CA', validDays: 2 });
    // RSA for the server and EC for clients, so both signature algorithms meet TLS.
    const identity = leaf(ca, 'server', rsaKey());
    server = createServer({ ...identity, ca: ca.certPem, requestCert: true, rejectUnauthorized: true });
    server.on('secureConnection', (socket: TLSSocket) => {
      seenByServer.push({
        authorized: socket.authorized,
        peer: String(socket.getPeerCertificate().subject.CN),
      });
      socket.end('hello');
    });
    // Node's server verifies the client after the handshake and just drops a client it
    // rejects (no TLS alert), so the reason is only visible here, on the server.
    server.on('tlsClientError', (_err, socket) =>
      refusedByServer.push(socket.authorizationError?.toString()),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  /**
   * Connects, reads until the connection closes, and reports what the client saw. With an
   * IP address there is no SNI (RFC 6066 forbids it); node then checks the IP against the SAN.
   */
  async function talk(client: Identity, host: 'localhost' | '127.0.0.1') {
    const servername = host === 'localhost' ? { servername: host } : {};
    const socket = connect({ host: '127.0.0.1', port, ...servername, ca: ca.certPem, ...client });
    let data = '';
    let error: Error | undefined;
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('error', (err) => {
      error = err;
    });
    // Not once(socket, 'close'): that rejects on the 'error' we want to inspect.
    await new Promise((resolve) => socket.on('close', resolve));
    return { data, error, authorized: socket.authorized };
  }

  for (const host of ['localhost', '127.0.0.1'] as const) {
    it(`completes the handshake both ways, checking the server as ${host}`, async () => {
      const before = seenByServer.length;
      const result = await talk(leaf(ca, 'client', ecKey()), host);
      assert.equal(result.error, undefined);
      assert.equal(result.authorized, true, 'client trusts the server certificate');
      assert.equal(result.data, 'hello');
      assert.deepEqual(seenByServer.slice(before), [{ authorized: true, peer: 'agent-1' }]);
    });
  }

  it('refuses a client certificate from another CA', async () => {
    const stranger = createCertificateAuthority({ commonName: 'Some Other CA', validDays: 2 });
    const before = { seen: seenByServer.length, refused: refusedByServer.length };
    const result = await talk(leaf(stranger, 'client', ecKey()), 'localhost');
    assert.equal(result.data, '', 'server sent nothing');
    assert.equal(seenByServer.length, before.seen, 'no secure connection on the server');
    assert.deepEqual(refusedByServer.slice(before.refused), ['UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
  });

  it('refuses a client with no certificate at all', async () => {
    const before = seenByServer.length;
    const result = await talk({ cert: '', key: '' }, 'localhost');
    assert.equal(result.data, '');
    assert.equal(
      (result.error as NodeJS.ErrnoException | undefined)?.code,
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
    );
    assert.equal(seenByServer.length, before);
  });
});
