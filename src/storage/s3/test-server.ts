// For tests only: starts a real S3-compatible server, s3rver (npm package `s3rver`), as
// a child process on a free loopback port over a temporary directory, through
// ./s3rver-main.ts (which fixes two defects of its filesystem store; read why there).
// Not exported from ../index.ts. s3rver's default account is S3RVER / S3RVER. Over HTTPS
// when given a certificate (the caller makes its CA trusted, as for Azurite).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

export const S3RVER_KEY_ID = 'S3RVER';
export const S3RVER_SECRET = 'S3RVER';

const MAIN = resolve(import.meta.dirname, 's3rver-main.ts');

export interface S3rver {
  /** http(s)://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly port: number;
  /** The environment a process needs to reach the server. */
  readonly env: Record<string, string>;
  /** s3://BUCKET[/PREFIX]?endpoint=...[&extra] */
  url(bucket: string, prefix?: string, extra?: string): string;
  /** Creates a bucket with a fresh random name and returns the name. */
  newBucket(): Promise<string>;
  /** Removes a bucket and everything in it (straight from s3rver's directory). */
  removeBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `serviceEndpoint` is the host suffix s3rver reads virtual-host style buckets from:
 * with "localhost", BUCKET.s3.localhost:PORT addresses BUCKET.
 */
export interface S3rverOptions {
  /** PEM files of a server certificate for 127.0.0.1 and its key: serve HTTPS. */
  tls?: { certFile: string; keyFile: string };
}

export async function startS3rver(options: S3rverOptions = {}): Promise<S3rver> {
  const directory = await mkdtemp(join(tmpdir(), 'offsite-s3rver-'));
  // s3rver makes its list continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
  const node = [process.execPath, '--openssl-legacy-provider'];
  const tlsArgs = options.tls ? [options.tls.certFile, options.tls.keyFile] : [];
  const child = spawn(node[0]!, [...node.slice(1), MAIN, directory, 'localhost', ...tlsArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let port: number;
  try {
    port = await listeningPort(child);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  const endpoint = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_KEY_ID, secretAccessKey: S3RVER_SECRET },
  });
  return {
    endpoint,
    port,
    env: { AWS_ACCESS_KEY_ID: S3RVER_KEY_ID, AWS_SECRET_ACCESS_KEY: S3RVER_SECRET },
    url: (bucket, prefix, extra) =>
      `s3://${bucket}${prefix ? `/${prefix}` : ''}?endpoint=${endpoint}${extra ? `&${extra}` : ''}`,
    async newBucket() {
      const name = `t-${randomBytes(8).toString('hex')}`;
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async removeBucket(name) {
      await rm(join(directory, name), { recursive: true, force: true });
    },
    async stop() {
      client.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(directory, { recursive: true, force: true });
      // s3rver-main.ts keeps uploads in progress in a folder beside the directory.
      await rm(`${directory}.uploads`, { recursive: true, force: true });
    },
  };
}

/** Waits for the "listening on 127.0.0.1:PORT" line. */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolvePort, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(output);
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
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening:\n${output}`)));
    child.once('error', reject);
  });
}
