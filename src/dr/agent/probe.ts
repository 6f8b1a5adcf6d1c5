import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

// A workload's health probe as its YAML declares it (src/vault/dr/workload-file.ts):
// a TCP connect, an HTTP GET answered with the expected status, or a command exiting 0,
// each within its timeout. Never throws: the outcome says what happened.

export type ProbeSpec =
  | { type: 'tcp'; host: string; port: number; timeoutMs: number }
  | { type: 'http'; url: string; expectStatus: number; timeoutMs: number }
  | { type: 'command'; command: string; timeoutMs: number };

export interface ProbeOutcome {
  healthy: boolean;
  detail: string;
  ms: number;
}

function tcp(spec: Extract<ProbeSpec, { type: 'tcp' }>): Promise<[boolean, string]> {
  return new Promise((resolve) => {
    const socket = connect({ host: spec.host, port: spec.port, timeout: spec.timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve([true, `connected to ${spec.host}:${spec.port}`]);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve([false, `no connection to ${spec.host}:${spec.port} within ${spec.timeoutMs} ms`]);
    });
    socket.once('error', (err) =>
      resolve([false, `${spec.host}:${spec.port}: ${(err as NodeJS.ErrnoException).code ?? err.message}`]),
    );
  });
}

function http(spec: Extract<ProbeSpec, { type: 'http' }>): Promise<[boolean, string]> {
  return new Promise((resolve) => {
    const url = new URL(spec.url);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, { method: 'GET', timeout: spec.timeoutMs, agent: false }, (res) => {
      res.resume();
      const ok = res.statusCode === spec.expectStatus;
      resolve([ok, `GET ${spec.url}: HTTP ${res.statusCode}${ok ? '' : `, expected ${spec.expectStatus}`}`]);
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${spec.timeoutMs} ms`)));
    req.once('error', (err) =>
      resolve([false, `GET ${spec.url}: ${(err as NodeJS.ErrnoException).code ?? err.message}`]),
    );
    req.end();
  });
}

function command(
  spec: Extract<ProbeSpec, { type: 'command' }>,
  env: NodeJS.ProcessEnv | undefined,
): Promise<[boolean, string]> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', spec.command], {
      stdio: 'ignore',
      timeout: spec.timeoutMs,
      ...(env ? { env } : {}),
    });
    child.once('error', (err) => resolve([false, `cannot run the probe command: ${err.message}`]));
    child.once('exit', (code, signal) => {
      if (code === 0) resolve([true, 'the probe command exited 0']);
      else
        resolve([
          false,
          signal
            ? `the probe command was stopped (${signal}, timeout ${spec.timeoutMs} ms)`
            : `the probe command exited ${code}`,
        ]);
    });
  });
}

/** `env`: for a command probe (a test copy's OFFSITE_DR_* variables). */
export async function runProbe(spec: ProbeSpec, env?: NodeJS.ProcessEnv): Promise<ProbeOutcome> {
  const started = performance.now();
  const [healthy, detail] =
    spec.type === 'tcp'
      ? await tcp(spec)
      : spec.type === 'http'
        ? await http(spec)
        : await command(spec, env);
  return { healthy, detail, ms: Math.round(performance.now() - started) };
}
