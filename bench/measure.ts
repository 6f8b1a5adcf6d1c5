// Runs one command as a child process and measures it: wall time, CPU time and peak
// resident memory of the whole process tree. Also page-cache control and size helpers.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Kill the process tree after this many milliseconds (default: 4 hours). */
  timeoutMs?: number;
}

export interface RunResult {
  command: string;
  exitCode: number | null;
  signal: string | null;
  ok: boolean;
  timedOut: boolean;
  wallSec: number;
  /** CPU seconds of the process tree, from /usr/bin/time (null when it is not installed). */
  userSec: number | null;
  sysSec: number | null;
  /**
   * Peak resident memory in bytes: the largest of the tree's sampled total RSS, the highest
   * VmHWM of any single process and the maximum RSS that /usr/bin/time reports.
   */
  peakRssBytes: number;
  stdout: string;
  stderr: string;
}

const TIME_BIN = '/usr/bin/time';
const OUTPUT_CAP = 8 * 1024 * 1024;
const SAMPLE_MS = 50;

export function haveGnuTime(): boolean {
  return existsSync(TIME_BIN);
}

/** Keeps the last `cap` characters of a stream, so chatty tools cannot exhaust memory. */
function tailCollector(cap: number): { push(chunk: Buffer): void; text(): string } {
  let text = '';
  return {
    push(chunk) {
      text += chunk.toString('utf8');
      if (text.length > cap * 2) text = text.slice(-cap);
    },
    text: () => (text.length > cap ? text.slice(-cap) : text),
  };
}

interface ProcInfo {
  ppid: number;
  rssKiB: number;
  hwmKiB: number;
}

async function readProc(pid: number): Promise<ProcInfo | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number => {
      const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status);
      return m ? Number(m[1]) : 0;
    };
    return { ppid: field('PPid'), rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
  } catch {
    return undefined; // the process exited between listing and reading
  }
}

/**
 * Total RSS of `root`'s descendants (and of `root` itself when `includeRoot`), in KiB, and
 * the highest VmHWM among them.
 */
async function sampleTree(root: number, includeRoot: boolean): Promise<{ rssKiB: number; hwmKiB: number }> {
  const entries = await readdir('/proc');
  const infos = new Map<number, ProcInfo>();
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        const info = await readProc(Number(e));
        if (info) infos.set(Number(e), info);
      }),
  );
  const children = new Map<number, number[]>();
  for (const [pid, info] of infos) {
    const list = children.get(info.ppid) ?? [];
    list.push(pid);
    children.set(info.ppid, list);
  }
  let rssKiB = 0;
  let hwmKiB = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    const info = infos.get(pid);
    if (info && (includeRoot || pid !== root)) {
      rssKiB += info.rssKiB;
      hwmKiB = Math.max(hwmKiB, info.hwmKiB);
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return { rssKiB, hwmKiB };
}

/** Runs `cmd args` and measures it. Never throws for a failing command: check `ok`. */
export async function runMeasured(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const useTime = haveGnuTime();
  const timeFile = join(tmpdir(), `offsite-bench-time-${process.pid}-${Date.now()}-${Math.random()}`);
  const argv = useTime ? ['-o', timeFile, '-f', '%e %M %U %S', cmd, ...args] : args;
  const bin = useTime ? TIME_BIN : cmd;
  const command = [cmd, ...args].join(' ');
  const started = process.hrtime.bigint();
  const child = spawn(bin, argv, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group, so a timeout can kill the whole tree
  });
  const out = tailCollector(OUTPUT_CAP);
  const err = tailCollector(OUTPUT_CAP);
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));

  let peakKiB = 0;
  let sampling = false;
  const sampler = setInterval(() => {
    if (sampling || child.pid === undefined) return;
    sampling = true;
    // With /usr/bin/time the measured tool is its child; the wrapper itself is not counted.
    sampleTree(child.pid, !useTime)
      .then((s) => {
        peakKiB = Math.max(peakKiB, s.rssKiB, s.hwmKiB);
      })
      .catch(() => {})
      .finally(() => {
        sampling = false;
      });
  }, SAMPLE_MS);

  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    },
    opts.timeoutMs ?? 4 * 3600_000,
  );

  const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.on('error', (e) => {
      err.push(Buffer.from(`spawn failed: ${e.message}\n`));
      resolve({ code: null, signal: null });
    });
    child.on('close', (c, s) => resolve({ code: c, signal: s }));
  });
  const wallSec = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  clearTimeout(timer);

  let userSec: number | null = null;
  let sysSec: number | null = null;
  let stderr = err.text();
  if (useTime) {
    try {
      const text = await readFile(timeFile, 'utf8');
      // GNU time writes "Command exited with non-zero status N" before the format line.
      const last = text.trim().split('\n').at(-1) ?? '';
      const [, maxKiB, user, sys] = last.split(' ').map(Number);
      if (Number.isFinite(maxKiB)) peakKiB = Math.max(peakKiB, maxKiB!);
      if (Number.isFinite(user)) userSec = user!;
      if (Number.isFinite(sys)) sysSec = sys!;
    } catch {
      stderr += '\n[bench] /usr/bin/time wrote no report';
    }
    await rm(timeFile, { force: true });
  }
  return {
    command,
    exitCode: code,
    signal,
    ok: code === 0 && !timedOut,
    timedOut,
    wallSec,
    userSec,
    sysSec,
    peakRssBytes: peakKiB * 1024,
    stdout: out.text(),
    stderr,
  };
}

/** Runs a short command and returns its stdout (trimmed) or undefined when it fails. */
export async function capture(
  cmd: string,
  args: string[],
  opts: RunOptions = {},
): Promise<string | undefined> {
  const r = await runMeasured(cmd, args, { ...opts, timeoutMs: opts.timeoutMs ?? 60_000 });
  return r.ok ? r.stdout.trim() : undefined;
}

function cachedKiB(meminfo: string): number {
  const m = /^Cached:\s+(\d+)/m.exec(meminfo);
  return m ? Number(m[1]) : 0;
}

/**
 * `sync; echo 3 > /proc/sys/vm/drop_caches`. Returns true when the page cache is small
 * afterwards (it worked, or there was nothing to drop), false when reads may stay warm
 * (not root, or a container that ignores the write).
 */
export async function dropCaches(): Promise<boolean> {
  try {
    await runMeasured('sync', [], { timeoutMs: 600_000 });
    const before = cachedKiB(await readFile('/proc/meminfo', 'utf8'));
    await writeFile('/proc/sys/vm/drop_caches', '3');
    const after = cachedKiB(await readFile('/proc/meminfo', 'utf8'));
    return after < 512 * 1024 || after < before / 2;
  } catch {
    return false;
  }
}

export interface TreeUsage {
  files: number;
  dirs: number;
  symlinks: number;
  /** Sum of apparent sizes (st_size) of every entry below the root, like `du -sb`. */
  apparentBytes: number;
}

/** Walks a directory tree without following symlinks. Missing directories count as empty. */
export async function treeUsage(root: string): Promise<TreeUsage> {
  const usage: TreeUsage = { files: 0, dirs: 0, symlinks: 0, apparentBytes: 0 };
  if (!existsSync(root)) return usage;
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const st = await lstat(path);
      usage.apparentBytes += st.size;
      if (entry.isDirectory()) {
        usage.dirs++;
        stack.push(path);
      } else if (entry.isSymbolicLink()) usage.symlinks++;
      else usage.files++;
    }
  }
  return usage;
}
