// Result types of a benchmark run, the side-by-side table, the JSON report and the machine
// description that goes with it.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { capture, type RunResult } from './measure.ts';
import type { ToolName } from './tools.ts';
import type { VerifyResult } from './verify.ts';

export const PHASES = ['init', 'initial', 'unchanged', 'mutated', 'restore', 'smallFiles'] as const;
export type PhaseName = (typeof PHASES)[number];

export interface PhaseFigures {
  ok: boolean;
  command: string;
  exitCode: number | null;
  wallSec: number;
  userSec: number | null;
  sysSec: number | null;
  peakRssBytes: number;
  /** Whether the page cache was dropped right before the phase. */
  cache: 'cold' | 'warm';
  /** The tool's own summary (files new/changed, bytes added…) when it printed one. */
  stats?: unknown;
  /** Tail of stderr when the command failed. */
  error?: string;
}

export interface ToolResults {
  tool: ToolName;
  label: string;
  version: string | null;
  settings: string;
  status: 'ok' | 'failed' | 'unavailable';
  /** Set when init or the initial backup failed, so nothing later could be measured. */
  failedAt?: PhaseName;
  notes: string[];
  phases: Partial<Record<PhaseName, PhaseFigures>>;
  repoBytesAfterInitial?: number;
  repoBytesFinal?: number;
  cacheBytes?: number;
  smallFilesRepoBytes?: number;
  verify?: VerifyResult;
}

export function phaseFigures(r: RunResult, cold: boolean, stats?: unknown): PhaseFigures {
  const f: PhaseFigures = {
    ok: r.ok,
    command: r.command,
    exitCode: r.exitCode,
    wallSec: r.wallSec,
    userSec: r.userSec,
    sysSec: r.sysSec,
    peakRssBytes: r.peakRssBytes,
    cache: cold ? 'cold' : 'warm',
  };
  if (stats !== undefined) f.stats = stats;
  if (!r.ok) f.error = (r.timedOut ? '[timed out] ' : '') + r.stderr.split('\n').slice(-40).join('\n');
  return f;
}

type Cell = number | string | undefined;
interface Row {
  label: string;
  digits: number;
  value(t: ToolResults): Cell;
}

const MiB = 1024 * 1024;

function phaseValue(t: ToolResults, name: PhaseName, get: (p: PhaseFigures) => number | null): Cell {
  const p = t.phases[name];
  if (!p) return undefined;
  if (!p.ok) return 'FAILED';
  return get(p) ?? undefined;
}

function rows(datasetBytes: number, smallFiles: number | undefined): Row[] {
  const list: Row[] = [
    { label: 'Initial backup (s)', digits: 1, value: (t) => phaseValue(t, 'initial', (p) => p.wallSec) },
    {
      label: 'Initial backup throughput (MiB/s)',
      digits: 1,
      value: (t) => phaseValue(t, 'initial', (p) => datasetBytes / MiB / p.wallSec),
    },
    {
      label: 'Initial backup CPU user+sys (s)',
      digits: 1,
      value: (t) =>
        phaseValue(t, 'initial', (p) => (p.userSec === null ? null : p.userSec + (p.sysSec ?? 0))),
    },
    {
      label: 'Initial backup peak RSS (MiB)',
      digits: 0,
      value: (t) => phaseValue(t, 'initial', (p) => p.peakRssBytes / MiB),
    },
    {
      label: 'Re-run, nothing changed (s)',
      digits: 2,
      value: (t) => phaseValue(t, 'unchanged', (p) => p.wallSec),
    },
    {
      label: 'Re-run after mutation (s)',
      digits: 2,
      value: (t) => phaseValue(t, 'mutated', (p) => p.wallSec),
    },
    {
      label: 'Full restore (s)',
      digits: 1,
      value: (t) => (t.verify && !t.verify.ok ? 'FAILED' : phaseValue(t, 'restore', (p) => p.wallSec)),
    },
    {
      label: 'Full restore peak RSS (MiB)',
      digits: 0,
      value: (t) => phaseValue(t, 'restore', (p) => p.peakRssBytes / MiB),
    },
    {
      label: 'Restore verified',
      digits: 0,
      value: (t) =>
        t.verify ? (t.verify.ok ? 'ok' : 'FAILED') : t.phases.restore?.ok === false ? 'FAILED' : undefined,
    },
    {
      label: 'Repo size after initial (MiB)',
      digits: 1,
      value: (t) => (t.repoBytesAfterInitial === undefined ? undefined : t.repoBytesAfterInitial / MiB),
    },
    {
      label: 'Repo size after 3 backups (MiB)',
      digits: 1,
      value: (t) => (t.repoBytesFinal === undefined ? undefined : t.repoBytesFinal / MiB),
    },
    {
      label: 'Client cache size (MiB)',
      digits: 1,
      value: (t) => (t.cacheBytes === undefined ? undefined : t.cacheBytes / MiB),
    },
  ];
  if (smallFiles !== undefined) {
    const n = smallFiles.toLocaleString('en-US');
    list.push(
      {
        label: `${n} small files: backup (s)`,
        digits: 1,
        value: (t) => phaseValue(t, 'smallFiles', (p) => p.wallSec),
      },
      {
        label: `${n} small files: peak RSS (MiB)`,
        digits: 0,
        value: (t) => phaseValue(t, 'smallFiles', (p) => p.peakRssBytes / MiB),
      },
      {
        label: `${n} small files: repo (MiB)`,
        digits: 1,
        value: (t) => (t.smallFilesRepoBytes === undefined ? undefined : t.smallFilesRepoBytes / MiB),
      },
    );
  }
  return list;
}

function show(c: Cell, digits: number): string {
  if (c === undefined) return '—';
  return typeof c === 'number' ? c.toFixed(digits) : c;
}

function ratio(a: Cell, b: Cell): string {
  if (typeof a !== 'number' || typeof b !== 'number' || b === 0) return '—';
  return `${(a / b).toFixed(2)}×`;
}

export interface TableRow {
  measure: string;
  values: Record<string, Cell>;
  offsiteOverRestic: string;
  offsiteOverBorg: string;
  /** Decimals shown in the text table. */
  digits: number;
}

/** One row per measure: Offsite, restic, borg, offsite/restic, offsite/borg. */
export function buildTable(results: ToolResults[], datasetBytes: number, smallFiles?: number): TableRow[] {
  const by = (name: ToolName): ToolResults | undefined => results.find((r) => r.tool === name);
  return rows(datasetBytes, smallFiles).map((row) => {
    const values: Record<string, Cell> = {};
    for (const name of ['offsite', 'restic', 'borg'] as const) {
      const t = by(name);
      const v = t ? (t.status === 'unavailable' ? 'n/a' : row.value(t)) : undefined;
      // Nothing after a failed init / initial backup could be measured.
      values[name] = v === undefined && t?.failedAt ? 'FAILED' : v;
    }
    const digitsFor = (c: Cell): Cell => (typeof c === 'number' ? Number(c.toFixed(row.digits + 2)) : c);
    for (const k of Object.keys(values)) values[k] = digitsFor(values[k]);
    return {
      measure: row.label,
      values,
      offsiteOverRestic: ratio(values.offsite, values.restic),
      offsiteOverBorg: ratio(values.offsite, values.borg),
      digits: row.digits,
    };
  });
}

export function formatTable(table: TableRow[]): string {
  const header = ['Measure', 'Offsite', 'restic', 'borg', 'offsite/restic', 'offsite/borg'];
  const body = table.map((r) => [
    r.measure,
    show(r.values.offsite, r.digits),
    show(r.values.restic, r.digits),
    show(r.values.borg, r.digits),
    r.offsiteOverRestic,
    r.offsiteOverBorg,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export async function machineInfo(dataDir: string): Promise<Record<string, unknown>> {
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1];
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    kernel: release(),
    os: pretty ?? 'unknown',
    filesystem: await capture('stat', ['-f', '-c', '%T', dataDir]),
    harnessNode: process.version,
  };
}

export async function writeJson(dir: string, stamp: string, report: unknown): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${stamp}.json`);
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
