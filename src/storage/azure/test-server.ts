// For tests only: starts a real Azurite Blob service (the npm package `azurite`) as a
// child process on a free loopback port, in memory, with the well-known development
// account; over HTTPS when given a certificate (the caller makes its CA trusted, e.g.
// with tls.setDefaultCACertificates, and NODE_EXTRA_CA_CERTS for child processes). Not
// exported from ../index.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';

/** Azurite's documented development account: public, the same in every installation. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const BIN = resolve(import.meta.dirname, '../../../node_modules/.bin/azurite-blob');

export interface Azurite {
  /** The Blob service URL: http://127.0.0.1:PORT/devstoreaccount1. */
  readonly serviceUrl: string;
  /** The environment a process needs to reach the development account. */
  readonly env: Record<string, string>;
  /** azure://devstoreaccount1/CONTAINER[/PREFIX]?endpoint=... */
  url(container: string, prefix?: string): string;
  /** Creates a container with a fresh random name and returns the name. */
  newContainer(): Promise<string>;
  deleteContainer(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface AzuriteOptions {
  /** PEM files of a server certificate for 127.0.0.1 and its key: serve HTTPS. */
  tls?: { certFile: string; keyFile: string };
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const cwd = await mkdtemp(join(tmpdir(), 'offsite-azurite-'));
  const args = ['--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence'];
  args.push('--skipApiVersionCheck', '--disableTelemetry', '--silent');
  if (options.tls) args.push('--cert', options.tls.certFile, '--key', options.tls.keyFile);
  const child = spawn(process.execPath, [realpathSync(BIN), ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let port: number;
  try {
    port = await listeningPort(child);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(cwd, { recursive: true, force: true });
    throw err;
  }
  const scheme = options.tls ? 'https' : 'http';
  const serviceUrl = `${scheme}://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const credential = new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY);
  const container = (name: string) => new ContainerClient(`${serviceUrl}/${name}`, credential);
  return {
    serviceUrl,
    env: { AZURE_STORAGE_KEY: AZURITE_KEY },
    url: (name, prefix) =>
      `azure://${AZURITE_ACCOUNT}/${name}${prefix ? `/${prefix}` : ''}?endpoint=${serviceUrl}`,
    async newContainer() {
      const name = `t-${randomBytes(8).toString('hex')}`;
      await container(name).create();
      return name;
    },
    async deleteContainer(name) {
      await container(name).deleteIfExists();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(cwd, { recursive: true, force: true });
    },
  };
}

/** Waits for Azurite's "successfully listens on http(s)://127.0.0.1:PORT" line. */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolvePort, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listens on https?:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolvePort(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) =>
      reject(new Error(`azurite-blob exited (${code}) before listening:\n${output}`)),
    );
    child.once('error', reject);
  });
}
