// One adapter per backup tool: how to init a repository, back up, restore and where its
// repository and client cache live. Every command runs as a measured child process.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { capture, type RunResult, runMeasured } from './measure.ts';

export const TOOL_NAMES = ['offsite', 'restic', 'borg'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** The project root (the directory above bench/). */
export const PROJECT_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const PASSPHRASE = 'offsite-bench-passphrase-not-secret';

/** Per-tool working area for one benchmark run. */
export interface ToolWorkspace {
  dir: string;
  repo: string;
  /** Client-side cache / config directory (kept out of the repository size). */
  cache: string;
  /** Names of the snapshots / archives made so far, oldest first. */
  snapshots: string[];
}

export interface Tool {
  name: ToolName;
  label: string;
  /** Settings that matter for comparing figures (chunk size, compression, encryption). */
  settings: string;
  /** Debian package that provides the binary, when there is one. */
  aptPackage?: string;
  binary: string;
  version(): Promise<string | undefined>;
  init(ws: ToolWorkspace): Promise<RunResult>;
  backup(ws: ToolWorkspace, source: string): Promise<RunResult>;
  restore(ws: ToolWorkspace, target: string): Promise<RunResult>;
  /** Interesting numbers from the backup command's own output, when it printed any. */
  backupStats(result: RunResult): unknown;
}

export async function createWorkspace(root: string, tool: ToolName): Promise<ToolWorkspace> {
  const dir = join(root, tool);
  const ws = { dir, repo: join(dir, 'repo'), cache: join(dir, 'cache'), snapshots: [] };
  await mkdir(ws.cache, { recursive: true });
  return ws;
}

/** The last line of `text` that parses as a JSON object matching `pick`. */
function lastJson(text: string, pick: (o: Record<string, unknown>) => boolean = () => true): unknown {
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      const o = JSON.parse(t) as Record<string, unknown>;
      if (pick(o)) return o;
    } catch {}
  }
  // Whole-output JSON (pretty-printed, as borg does).
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const OFFSITE_NODE = join(PROJECT_ROOT, 'node_modules', '.bin', 'node');
// The product's own entry (as installed), which enables Node's compile cache, run with
// the Node flags of its shebang line, as executing it directly would.
const OFFSITE_BIN = join(PROJECT_ROOT, 'bin', 'offsite.js');
const OFFSITE_FLAGS = shebangFlags(OFFSITE_BIN);

/** `#!/usr/bin/env -S node --flag …` → ['--flag', …]. */
function shebangFlags(path: string): string[] {
  const first = readFileSync(path, 'utf8').split('\n', 1)[0] ?? '';
  return first.split(/\s+/).filter((word) => word.startsWith('--'));
}

function offsiteEnv(ws: ToolWorkspace): Record<string, string> {
  return { OFFSITE_PASSWORD: PASSPHRASE, XDG_CACHE_HOME: ws.cache, OFFSITE_CACHE_DIR: ws.cache };
}

const offsite: Tool = {
  name: 'offsite',
  label: 'Offsite',
  settings: 'FastCDC avg 1 MiB, zstd level 3, AES-256-GCM (project defaults)',
  binary: OFFSITE_NODE,
  async version() {
    if (!existsSync(OFFSITE_BIN)) return undefined;
    const v = await capture(OFFSITE_NODE, [...OFFSITE_FLAGS, OFFSITE_BIN, '--version'], {
      timeoutMs: 30_000,
    });
    return v?.split('\n')[0];
  },
  init: (ws) =>
    runMeasured(OFFSITE_NODE, [...OFFSITE_FLAGS, OFFSITE_BIN, 'init', '--repo', ws.repo], {
      env: offsiteEnv(ws),
    }),
  backup: async (ws, source) => {
    const r = await runMeasured(
      OFFSITE_NODE,
      [...OFFSITE_FLAGS, OFFSITE_BIN, 'backup', '--repo', ws.repo, source, '--json'],
      {
        env: offsiteEnv(ws),
      },
    );
    if (r.ok) ws.snapshots.push('latest');
    return r;
  },
  restore: (ws, target) =>
    runMeasured(
      OFFSITE_NODE,
      [...OFFSITE_FLAGS, OFFSITE_BIN, 'restore', 'latest', '--repo', ws.repo, '--target', target],
      {
        env: offsiteEnv(ws),
      },
    ),
  backupStats: (r) => lastJson(r.stdout),
};

function resticEnv(ws: ToolWorkspace): Record<string, string> {
  return { RESTIC_PASSWORD: PASSPHRASE, RESTIC_REPOSITORY: ws.repo, RESTIC_CACHE_DIR: ws.cache };
}

const restic: Tool = {
  name: 'restic',
  label: 'restic',
  settings:
    'repository v2, compression auto (zstd "default" ≈ level 3), CDC avg 1 MiB, AES-256-CTR + Poly1305',
  aptPackage: 'restic',
  binary: 'restic',
  async version() {
    return (await capture('restic', ['version']))?.split(' compiled')[0];
  },
  init: (ws) => runMeasured('restic', ['init', '--repository-version', '2'], { env: resticEnv(ws) }),
  backup: async (ws, source) => {
    const r = await runMeasured('restic', ['backup', '--json', source], { env: resticEnv(ws) });
    if (r.ok) ws.snapshots.push('latest');
    return r;
  },
  restore: (ws, target) =>
    runMeasured('restic', ['restore', 'latest', '--target', target], { env: resticEnv(ws) }),
  backupStats: (r) => lastJson(r.stdout, (o) => o.message_type === 'summary'),
};

function borgEnv(ws: ToolWorkspace): Record<string, string> {
  return {
    BORG_PASSPHRASE: PASSPHRASE,
    BORG_REPO: ws.repo,
    BORG_BASE_DIR: ws.cache,
    BORG_DISPLAY_PASSPHRASE: 'no',
    BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
    BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
  };
}

const borg: Tool = {
  name: 'borg',
  label: 'borg',
  settings:
    'repokey-blake2 (AES-256-CTR + BLAKE2b), --compression zstd,3, buzhash chunker default (avg 2 MiB)',
  aptPackage: 'borgbackup',
  binary: 'borg',
  async version() {
    return await capture('borg', ['--version']);
  },
  init: (ws) => runMeasured('borg', ['init', '--encryption=repokey-blake2', ws.repo], { env: borgEnv(ws) }),
  backup: async (ws, source) => {
    const name = `bench-${ws.snapshots.length + 1}`;
    const r = await runMeasured(
      'borg',
      ['create', '--json', '--compression', 'zstd,3', `::${name}`, source],
      {
        env: borgEnv(ws),
      },
    );
    if (r.ok) ws.snapshots.push(name);
    return r;
  },
  restore: async (ws, target) => {
    await mkdir(target, { recursive: true });
    const last = ws.snapshots.at(-1) ?? 'bench-1';
    return runMeasured('borg', ['extract', `::${last}`], { env: borgEnv(ws), cwd: target });
  },
  backupStats: (r) => {
    const o = lastJson(r.stdout) as { archive?: { stats?: unknown; duration?: number } } | undefined;
    return o?.archive ? { duration: o.archive.duration, stats: o.archive.stats } : undefined;
  },
};

export const TOOLS: Record<ToolName, Tool> = { offsite, restic, borg };

async function which(bin: string): Promise<boolean> {
  return (await capture('sh', ['-c', `command -v ${bin}`])) !== undefined;
}

/** apt-get install for missing Debian packages (restic, borgbackup, time). */
export async function ensureInstalled(tools: Tool[], log: (m: string) => void): Promise<void> {
  const missing: string[] = [];
  for (const t of tools) if (t.aptPackage && !(await which(t.binary))) missing.push(t.aptPackage);
  if (!existsSync('/usr/bin/time')) missing.push('time');
  if (missing.length === 0) return;
  log(`installing with apt-get: ${missing.join(' ')}`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  let r = await runMeasured('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
  if (!r.ok) {
    await runMeasured('apt-get', ['update'], { env });
    r = await runMeasured('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
  }
  if (!r.ok) log(`apt-get install failed (exit ${r.exitCode}):\n${r.stderr.slice(-2000)}`);
}
