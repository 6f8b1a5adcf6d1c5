import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { BadInputError, errnoCode } from '../errors/index.ts';
import { type AgentState, loadAgentState, saveAgentState } from './state.ts';
import { vaultClient } from './vault.ts';

// Registering this machine with a vault: by a vault credentials file (we make our own key
// pair; the key never leaves this machine, the vault certifies its public half), or by
// a certificate an administrator uploaded to the vault (we prove we hold its key in the
// TLS handshake). Through the proxy set in the agent folder, if one was set before.

interface CredentialsFile {
  kind: string;
  version: number;
  server: string;
  vault: { id: string; name: string };
  caPem: string;
  secret: string;
  expiresAt: string;
}

interface Registered {
  server: { id: string; name: string; via: 'credentials' | 'certificate' };
  vault: { id: string; name: string };
  certificate?: string;
}

async function readFileText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new BadInputError(
      'FILE_UNREADABLE',
      `cannot read the ${what} ${path} (${errnoCode(err) ?? 'error'})`,
    );
  }
}

export async function readCredentialsFile(path: string, now: number): Promise<CredentialsFile> {
  const text = await readFileText(path, 'vault credentials file');
  let file: CredentialsFile;
  try {
    // JSON null (or any non-object) is as wrong as a syntax error.
    file = (JSON.parse(text) ?? {}) as CredentialsFile;
  } catch {
    file = {} as CredentialsFile;
  }
  const valid =
    file.kind === 'offsite-vault-credentials' &&
    file.version === 1 &&
    typeof file.secret === 'string' &&
    typeof file.server === 'string' &&
    typeof file.caPem === 'string';
  if (!valid) {
    throw new BadInputError('NOT_CREDENTIALS_FILE', `${path} is not an Offsite vault credentials file`, {
      hint: 'download one with `offsite vault credentials VAULT --out FILE` or from the console',
    });
  }
  if (!(now < Date.parse(file.expiresAt))) {
    throw new BadInputError(
      'CREDENTIALS_EXPIRED',
      `the vault credentials file expired at ${file.expiresAt}`,
      {
        hint: 'download a new one: a credentials file is valid for 48 hours',
      },
    );
  }
  return file;
}

async function refuseIfRegistered(dir: string): Promise<void> {
  const existing = await loadAgentState(dir);
  if (existing) {
    throw new BadInputError(
      'AGENT_ALREADY_REGISTERED',
      `this agent folder is registered already (server ${existing.info.name} in vault ${existing.info.vault.name})`,
      { hint: 'use another OFFSITE_AGENT_DIR, or --force to replace the registration' },
    );
  }
}

export async function registerWithCredentialsFile(options: {
  dir: string;
  credentialsFile: string;
  name?: string;
  force?: boolean;
  now?: number;
}): Promise<AgentState> {
  const file = await readCredentialsFile(options.credentialsFile, options.now ?? Date.now());
  if (!options.force) await refuseIfRegistered(options.dir);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const client = vaultClient(options.dir, { server: file.server, caPem: file.caPem });
  const answer = (await client.call('POST', '/v1/register', {
    secret: file.secret,
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    name: options.name ?? hostname(),
  })) as Registered;
  const state: AgentState = {
    dir: options.dir,
    info: infoFrom(file.server, answer),
    caPem: file.caPem,
    certPem: answer.certificate!,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  await saveAgentState(state);
  return state;
}

function infoFrom(server: string, answer: Registered): AgentState['info'] {
  return {
    version: 1,
    server,
    vault: { id: answer.vault.id, name: answer.vault.name },
    serverId: answer.server.id,
    name: answer.server.name,
    via: answer.server.via,
    registeredAt: new Date().toISOString(),
  };
}

/** The certificate as PEM, whether the file holds PEM or DER (a `.cer`). */
function asPem(bytes: Buffer | string): string {
  try {
    return new X509Certificate(bytes).toString();
  } catch {
    throw new BadInputError('BAD_CERT_OR_KEY', 'the certificate file is neither a PEM nor a DER certificate');
  }
}

/** The key must be the certificate's: a mismatch would only fail later, in the handshake. */
function checkPair(certPem: string, keyPem: string): void {
  let matches = false;
  try {
    const cert = new X509Certificate(certPem);
    const key = createPrivateKey(keyPem);
    matches = cert.publicKey
      .export({ type: 'spki', format: 'der' })
      .equals(createPublicKey(key).export({ type: 'spki', format: 'der' }));
  } catch {
    throw new BadInputError('BAD_CERT_OR_KEY', 'the certificate or the key file is not valid PEM');
  }
  if (!matches) throw new BadInputError('KEY_MISMATCH', 'the key file does not belong to the certificate');
}

export async function registerWithCertificate(options: {
  dir: string;
  server: string;
  vault: string;
  certFile: string;
  keyFile: string;
  caPem: string;
  name?: string;
  force?: boolean;
}): Promise<AgentState> {
  if (!options.force) await refuseIfRegistered(options.dir);
  const certPem = asPem(
    await readFile(options.certFile).catch(() => readFileText(options.certFile, 'certificate')),
  );
  const keyPem = await readFileText(options.keyFile, 'key');
  checkPair(certPem, keyPem);
  const client = vaultClient(options.dir, { server: options.server, caPem: options.caPem, certPem, keyPem });
  const answer = (await client.call('POST', '/v1/agent/register', {
    vault: options.vault,
    name: options.name ?? hostname(),
  })) as Registered;
  const state: AgentState = {
    dir: options.dir,
    info: infoFrom(options.server, answer),
    caPem: options.caPem,
    certPem,
    keyPem,
  };
  await saveAgentState(state);
  return state;
}
