// Side-by-side benchmark of Offsite, restic and borg on one deterministic data set:
// initial backup, unchanged re-run, re-run after a mutation, full restore (verified),
// repository size and peak memory. `npm run bench -- --help` for the flags.
import { readFileSync, realpathSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type Dataset,
  ensureDataset,
  ensureSmallFiles,
  type Mutation,
  mutateDataset,
  parseSize,
} from './dataset.ts';
import { capture, dropCaches, haveGnuTime, type RunResult, treeUsage } from './measure.ts';
import {
  buildTable,
  formatTable,
  machineInfo,
  type PhaseName,
  phaseFigures,
  type ToolResults,
  writeJson,
} from './report.ts';
import {
  createWorkspace,
  ensureInstalled,
  PROJECT_ROOT,
  TOOL_NAMES,
  TOOLS,
  type Tool,
  type ToolName,
  type ToolWorkspace,
} from './tools.ts';
import { type Fingerprint, fingerprint, verifyRestore } from './verify.ts';

const HELP = `usage: npm run bench -- [options]

  --size SIZE          data set size (default 1GiB; e.g. 200MiB for a quick run)
  --tools LIST         comma-separated subset of ${TOOL_NAMES.join(',')} (default: all)
  --keep               keep the repositories (under bench/data/runs/<timestamp>/)
  --huge               also back up 1 000 000 small files (1–8 KiB); slow
  --small-files N      like --huge with N files
  --seed TEXT          data set seed (default offsite-bench-1)
  --no-drop-caches     do not drop the page cache before each timed step
`;

const BENCH_DIR = join(PROJECT_ROOT, 'bench');
const DATA_DIR = join(BENCH_DIR, 'data');
const RESULTS_DIR = join(BENCH_DIR, 'results');

const log = (msg: string): void => console.log(msg);

function parse() {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '1GiB' },
      tools: { type: 'string', default: TOOL_NAMES.join(',') },
      keep: { type: 'boolean', default: false },
      huge: { type: 'boolean', default: false },
      'small-files': { type: 'string' },
      seed: { type: 'string', default: 'offsite-bench-1' },
      'no-drop-caches': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const tools = values.tools.split(',').map((s) => s.trim()) as ToolName[];
  for (const t of tools) if (!TOOL_NAMES.includes(t)) throw new Error(`--tools: unknown tool "${t}"`);
  let smallFiles: number | undefined = values.huge ? 1_000_000 : undefined;
  if (values['small-files'] !== undefined) {
    smallFiles = Number(values['small-files']);
    if (!Number.isInteger(smallFiles) || smallFiles < 1)
      throw new Error('--small-files: expected a positive integer');
  }
  return {
    size: parseSize(values.size),
    tools,
    keep: values.keep,
    smallFiles,
    seed: values.seed,
    dropCaches: !values['no-drop-caches'],
  };
}
type Options = ReturnType<typeof parse>;

interface Runner {
  tool: Tool;
  ws: ToolWorkspace;
  res: ToolResults;
  alive: boolean;
}

function tail(text: string, lines: number): string {
  return text
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((l) => `    | ${l}`)
    .join('\n');
}

/** Runs one timed step for one tool; records it and reports failures without throwing. */
async function step(
  opts: Options,
  r: Runner,
  name: PhaseName,
  fn: () => Promise<RunResult>,
): Promise<RunResult | undefined> {
  const cold = opts.dropCaches ? await dropCaches() : false;
  process.stdout.write(`  ${r.tool.label.padEnd(8)} ${name.padEnd(10)} `);
  let result: RunResult;
  try {
    result = await fn();
  } catch (e) {
    log(`FAILED: ${(e as Error).message}`);
    r.res.phases[name] = {
      ok: false,
      command: '',
      exitCode: null,
      wallSec: 0,
      userSec: null,
      sysSec: null,
      peakRssBytes: 0,
      cache: cold ? 'cold' : 'warm',
      error: String(e),
    };
    r.res.status = 'failed';
    return undefined;
  }
  const stats = name === 'init' || name === 'restore' ? undefined : r.tool.backupStats(result);
  r.res.phases[name] = phaseFigures(result, cold, stats);
  if (result.ok) {
    log(
      `${result.wallSec.toFixed(2)} s, peak RSS ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MiB${cold ? '' : ' (warm cache)'}`,
    );
  } else {
    r.res.status = 'failed';
    log(
      `FAILED (exit ${result.exitCode ?? result.signal}${result.timedOut ? ', timed out' : ''}): ${result.command}`,
    );
    log(tail(result.stderr || result.stdout, 30));
  }
  return result;
}

async function runPhase(
  opts: Options,
  runners: Runner[],
  name: PhaseName,
  fn: (r: Runner) => Promise<RunResult>,
) {
  for (const r of runners.filter((x) => x.alive)) {
    const result = await step(opts, r, name, () => fn(r));
    if (!result?.ok && (name === 'init' || name === 'initial')) {
      r.alive = false;
      r.res.failedAt = name;
    }
  }
}

async function prepareRunners(opts: Options, runRoot: string): Promise<Runner[]> {
  const tools = opts.tools.map((n) => TOOLS[n]);
  await ensureInstalled(tools, log);
  const runners: Runner[] = [];
  for (const tool of tools) {
    let version = await tool.version().catch(() => undefined);
    const res: ToolResults = {
      tool: tool.name,
      label: tool.label,
      version: version ?? null,
      settings: tool.settings,
      status: 'ok',
      notes: [],
      phases: {},
    };
    let alive = true;
    if (version === undefined && tool.name !== 'offsite') {
      res.status = 'unavailable';
      res.notes.push(`${tool.binary} not found or not runnable`);
      alive = false;
    } else if (version === undefined) {
      // The CLI may not answer --version yet; still try the real commands.
      const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
      version = `package.json ${pkg.version} (--version failed)`;
      res.version = version;
    }
    log(`${tool.label}: ${res.version ?? 'unavailable'} — ${tool.settings}`);
    runners.push({ tool, ws: await createWorkspace(runRoot, tool.name), res, alive });
  }
  return runners;
}

async function measureMain(
  opts: Options,
  runners: Runner[],
  ds: Dataset,
): Promise<{ mutation?: Mutation; after?: Fingerprint }> {
  log('\n== init');
  await runPhase(opts, runners, 'init', (r) => r.tool.init(r.ws));
  log('\n== initial backup');
  await runPhase(opts, runners, 'initial', (r) => r.tool.backup(r.ws, ds.dir));
  for (const r of runners.filter((x) => x.alive))
    r.res.repoBytesAfterInitial = (await treeUsage(r.ws.repo)).apparentBytes;
  log('\n== re-run, nothing changed');
  await runPhase(opts, runners, 'unchanged', (r) => r.tool.backup(r.ws, ds.dir));
  if (!runners.some((r) => r.alive)) return {};
  log('\n== mutation');
  const mutation = mutateDataset(ds, ds.seed);
  log(
    `  changed ${mutation.changedFiles.length} of ${mutation.totalFilesBefore} files, added ${mutation.addedFiles.length} files (${(mutation.addedBytes / 2 ** 20).toFixed(1)} MiB); the cached data set will be rebuilt next run`,
  );
  const after = await fingerprint(ds.dir);
  log('\n== re-run after mutation');
  await runPhase(opts, runners, 'mutated', (r) => r.tool.backup(r.ws, ds.dir));
  for (const r of runners.filter((x) => x.alive)) {
    r.res.repoBytesFinal = (await treeUsage(r.ws.repo)).apparentBytes;
    r.res.cacheBytes = (await treeUsage(r.ws.cache)).apparentBytes;
  }
  log('\n== full restore of the latest snapshot');
  const sample = [...mutation.changedFiles, ...mutation.addedFiles];
  for (const r of runners.filter((x) => x.alive)) {
    const target = join(r.ws.dir, 'restore');
    await rm(target, { recursive: true, force: true });
    await mkdir(target, { recursive: true });
    const result = await step(opts, r, 'restore', () => r.tool.restore(r.ws, target));
    if (result?.ok) {
      const v = await verifyRestore(after, target, sample);
      r.res.verify = v;
      if (v.ok) log(`           verified: ${v.files} files, ${v.bytes} bytes, ${v.hashedFiles} files hashed`);
      else {
        r.res.status = 'failed';
        log(`           VERIFY FAILED:\n${v.problems.map((p) => `    | ${p}`).join('\n')}`);
      }
    }
    await rm(target, { recursive: true, force: true });
  }
  return { mutation, after };
}

async function measureSmallFiles(opts: Options, runners: Runner[], runRoot: string, count: number) {
  const ds = ensureSmallFiles(DATA_DIR, count, opts.seed, log);
  log(`\n== ${count} small files: initial backup`);
  for (const r of runners.filter((x) => x.res.status !== 'unavailable')) {
    const ws = await createWorkspace(join(runRoot, 'small-files'), r.tool.name);
    const init = await r.tool.init(ws);
    if (!init.ok) {
      log(`  ${r.tool.label}: init FAILED\n${tail(init.stderr, 20)}`);
      continue;
    }
    await step(opts, r, 'smallFiles', () => r.tool.backup(ws, ds.dir));
    r.res.smallFilesRepoBytes = (await treeUsage(ws.repo)).apparentBytes;
    if (!opts.keep) await rm(ws.dir, { recursive: true, force: true });
  }
  return ds;
}

async function main(): Promise<void> {
  const opts = parse();
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const runRoot = join(DATA_DIR, 'runs', stamp);
  await mkdir(runRoot, { recursive: true });

  const runners = await prepareRunners(opts, runRoot);
  const built = ensureDataset(DATA_DIR, opts.size, opts.seed, log);
  const ds = { ...built, dir: realpathSync(built.dir) };
  const before = await fingerprint(ds.dir);
  log(
    `source: ${ds.dir} — ${before.files} files, ${before.dirs} dirs, ${before.symlinks} symlinks, ${(before.bytes / 2 ** 20).toFixed(1)} MiB`,
  );
  const cold = opts.dropCaches && (await dropCaches());
  log(
    opts.dropCaches
      ? cold
        ? 'page cache: dropped before every timed step (cold)'
        : 'page cache: cannot be dropped here; figures are warm-cache'
      : 'page cache: not dropped (--no-drop-caches)',
  );
  if (!haveGnuTime())
    log('note: /usr/bin/time missing; CPU times unavailable, peak RSS from /proc sampling only');

  const { mutation, after } = await measureMain(opts, runners, ds);
  const small =
    opts.smallFiles !== undefined
      ? await measureSmallFiles(opts, runners, runRoot, opts.smallFiles)
      : undefined;

  const results = runners.map((r) => r.res);
  const table = buildTable(results, before.bytes, opts.smallFiles);
  log(
    `\n${ds.name}: ${before.files} files, ${(before.bytes / 2 ** 20).toFixed(1)} MiB; ${cold ? 'cold' : 'warm'} page cache\n`,
  );
  log(formatTable(table));

  const offsiteNode = await capture(TOOLS.offsite.binary, ['--version']);
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    options: opts,
    machine: {
      ...(await machineInfo(ds.dir)),
      offsiteNode: offsiteNode ?? null,
      gnuTime: haveGnuTime(),
      pageCache: cold ? 'dropped before each step' : 'warm',
    },
    tools: Object.fromEntries(results.map((r) => [r.tool, { version: r.version, settings: r.settings }])),
    dataset: {
      name: ds.name,
      dir: ds.dir,
      seed: ds.seed,
      requestedBytes: ds.size,
      composition: ds.composition,
      files: before.files,
      dirs: before.dirs,
      symlinks: before.symlinks,
      bytes: before.bytes,
      afterMutation: after ? { files: after.files, bytes: after.bytes } : null,
      rebuiltThisRun: !ds.cached,
      buildSec: ds.buildSec,
    },
    mutation: mutation
      ? {
          changedFiles: mutation.changedFiles.length,
          addedFiles: mutation.addedFiles.length,
          addedBytes: mutation.addedBytes,
          bytesOverwritten: mutation.changedBytesWritten,
        }
      : null,
    smallFiles: small ? { files: small.files, bytes: small.bytes, dir: small.dir } : null,
    table,
    results,
  };
  const path = await writeJson(RESULTS_DIR, stamp, report);
  log(`\nresults: ${path}`);
  if (opts.keep) log(`repositories kept in ${runRoot}`);
  else await rm(runRoot, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
