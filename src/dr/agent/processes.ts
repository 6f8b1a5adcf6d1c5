import { spawn } from 'node:child_process';
import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode } from '../../errors/index.ts';
import { readIfExists, writeAtomic } from '../../util/index.ts';
import { killGroup } from './shell.ts';

// Workload processes this site agent started: each start command runs detached as the
// leader of its own process group, its pid and kernel start time recorded in
// dr/processes/<id>.json, so a restarted site agent still knows (and can stop) what it
// started, and a pid reused by an unrelated process is never taken for it. Linux /proc.

export interface ProcessRecord {
  id: string;
  workload: string;
  mode: 'test' | 'real';
  runId: string | null;
  epoch: number;
  /** The leader's pid, also the process group id. */
  pid: number;
  /** /proc/<pid>/stat start time (clock ticks since boot): tells a reused pid apart. */
  startTicks: string;
  startedAt: string;
  /** The OFFSITE_DR_* environment it got (never the caller's extra env: it may hold secrets). */
  drEnv: Record<string, string>;
}

export function processId(mode: 'test' | 'real', workload: string, runId: string | null): string {
  return mode === 'real' ? `real-${workload}` : `test-${runId}-${workload}`;
}

interface ProcStat {
  pid: number;
  state: string;
  pgrp: number;
  startTicks: string;
}

function parseStat(pid: number, text: string): ProcStat | undefined {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (fields.length < 20) return undefined;
  return { pid, state: fields[0]!, pgrp: Number(fields[2]), startTicks: fields[19]! };
}

async function statOf(pid: number): Promise<ProcStat | undefined> {
  try {
    return parseStat(pid, await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Live (not zombie) processes of a process group. */
export async function groupMembers(pgid: number): Promise<number[]> {
  const members: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await statOf(Number(name));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') members.push(stat.pid);
  }
  return members;
}

/** True while some process of the recorded group lives, and the pid was not reused. */
export async function isAlive(record: ProcessRecord): Promise<boolean> {
  const leader = await statOf(record.pid);
  if (leader && leader.pgrp === record.pid && leader.startTicks !== record.startTicks) return false;
  return (await groupMembers(record.pid)).length > 0;
}

export class ProcessTable {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #file(id: string): string {
    return join(this.#dir, `${id}.json`);
  }

  logFile(id: string): string {
    return join(this.#dir, `${id}.log`);
  }

  async get(id: string): Promise<ProcessRecord | undefined> {
    const text = await readIfExists(this.#file(id));
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as ProcessRecord;
    } catch {
      return undefined;
    }
  }

  async list(): Promise<ProcessRecord[]> {
    const names = await readdir(this.#dir).catch((err: unknown) => {
      if (errnoCode(err) === 'ENOENT') return [] as string[];
      throw err;
    });
    const records: ProcessRecord[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const record = await this.get(name.slice(0, -'.json'.length));
      if (record) records.push(record);
    }
    return records;
  }

  async remove(id: string): Promise<void> {
    await rm(this.#file(id), { force: true });
  }

  /** The live record of `id`, or undefined (a dead one is forgotten). */
  async running(id: string): Promise<ProcessRecord | undefined> {
    const record = await this.get(id);
    if (!record) return undefined;
    if (await isAlive(record)) return record;
    await this.remove(id);
    return undefined;
  }

  /** Starts `command` detached in its own group, output to <id>.log, and records it. */
  async start(
    fields: Omit<ProcessRecord, 'pid' | 'startTicks' | 'startedAt'>,
    command: string,
    env: NodeJS.ProcessEnv,
  ): Promise<ProcessRecord> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const log = await open(this.logFile(fields.id), 'a', 0o600);
    try {
      const child = spawn('/bin/sh', ['-c', command], {
        detached: true,
        stdio: ['ignore', log.fd, log.fd],
        env,
      });
      const pid = await new Promise<number>((resolve, reject) => {
        child.once('error', reject);
        child.once('spawn', () => resolve(child.pid!));
      });
      child.unref();
      const stat = await statOf(pid);
      const record: ProcessRecord = {
        ...fields,
        pid,
        startTicks: stat?.startTicks ?? '',
        startedAt: new Date().toISOString(),
      };
      await writeAtomic(this.#file(fields.id), `${JSON.stringify(record, null, 2)}\n`, 0o600);
      return record;
    } finally {
      await log.close();
    }
  }
}

/** Waits up to ms for the group to be gone; true when it is. */
export async function waitGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if ((await groupMembers(pgid)).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

/** SIGTERM to the group, then SIGKILL past graceMs; true when nothing of it is left. */
export async function terminateGroup(pgid: number, graceMs: number): Promise<boolean> {
  if ((await groupMembers(pgid)).length === 0) return true;
  killGroup(pgid, 'SIGTERM');
  if (await waitGone(pgid, graceMs)) return true;
  killGroup(pgid, 'SIGKILL');
  return waitGone(pgid, 5000);
}
