// Worker threads started from plain JavaScript. A worker whose modules are `.ts` loads
// Node's TypeScript support into its own isolate: measured +20 MiB of resident memory
// per worker (pack worker: 39 MiB from `.ts`, 18 MiB from the same code as `.mjs`).
// The calling thread has that support loaded already, so it strips the worker's module
// graph into a private temporary folder (once per process, again if that copy was
// removed) and starts workers from there.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isProcessRunning } from '../util/index.ts';

/** Relative `.ts` specifiers of static imports and re-exports (`from './x.ts'`, `import './x.ts'`). */
const RELATIVE_TS = /(\bfrom\s*|\bimport\s*)(['"])(\.{1,2}\/[^'"\n]+)\.ts\2/g;

type Strip = (code: string, options?: { mode?: 'strip' }) => string;

let folder: string | undefined;
const written = new Map<string, URL>();

/**
 * A URL to start `entry` (a `.ts` module) as a worker from: its stripped `.mjs` copy, or
 * `entry` itself when stripping is not possible (no `stripTypeScriptTypes`, a module
 * that is not `.ts`, a file system that refuses the copy).
 */
export function workerUrl(entry: URL): URL {
  const known = written.get(entry.href);
  // A long-running process (the agent) may outlive its copy: /tmp is cleaned by age.
  if (known && (known.href === entry.href || existsSync(fileURLToPath(known)))) return known;
  if (known) folder = undefined;
  let url = entry;
  try {
    const strip = stripper();
    if (strip && entry.protocol === 'file:' && entry.pathname.endsWith('.ts')) {
      url = writeGraph(fileURLToPath(entry), strip);
    }
  } catch {
    url = entry;
  }
  written.set(entry.href, url);
  return url;
}

/** Node's type stripper, without the once-per-process experimental warning it prints. */
function stripper(): Strip | undefined {
  const strip = (nodeModule as { stripTypeScriptTypes?: Strip }).stripTypeScriptTypes;
  if (typeof strip !== 'function') return undefined;
  return (code) => {
    const emit = process.emitWarning;
    process.emitWarning = ((warning: string | Error, ...rest: never[]) => {
      const text = typeof warning === 'string' ? warning : warning.message;
      if (!text.includes('stripTypeScriptTypes')) emit.call(process, warning, ...rest);
    }) as typeof process.emitWarning;
    try {
      return strip(code, { mode: 'strip' });
    } finally {
      process.emitWarning = emit;
    }
  };
}

/** Writes `entry` and every module it imports (relative `.ts` ones) as `.mjs`; returns the entry's URL. */
function writeGraph(entry: string, strip: Strip): URL {
  const root = commonRoot(entry);
  const out = privateFolder();
  const pending = [entry];
  const seen = new Set<string>(pending);
  while (pending.length > 0) {
    const file = pending.pop()!;
    const code = strip(readFileSync(file, 'utf8')).replace(RELATIVE_TS, (_m, lead, quote, spec) => {
      const target = resolve(dirname(file), `${spec}.ts`);
      if (!seen.has(target)) {
        seen.add(target);
        pending.push(target);
      }
      return `${lead}${quote}${spec}.mjs${quote}`;
    });
    const dest = join(out, relative(root, file)).replace(/\.ts$/, '.mjs');
    if (!dest.startsWith(out + sep)) throw new Error(`module ${file} lies outside ${root}`);
    // Subfolders of the private folder need no looser mode than it has.
    mkdirSync(dirname(dest), { recursive: true, mode: 0o700 });
    writeFileSync(dest, code, { mode: 0o600 });
  }
  return pathToFileURL(join(out, relative(root, entry)).replace(/\.ts$/, '.mjs'));
}

/** The `src` folder holding the entry: every module of a worker lies under it. */
function commonRoot(entry: string): string {
  const parts = entry.split(sep);
  const at = parts.lastIndexOf('src');
  if (at < 0) throw new Error(`${entry} is not under a src folder`);
  return parts.slice(0, at + 1).join(sep);
}

const PREFIX = 'offsite-workers-';

/**
 * A folder only this user can read (mkdtemp makes it 0700), removed when the process exits.
 * Its name carries the pid, so copies left by a killed process are removed by the next one.
 */
function privateFolder(): string {
  if (!folder) {
    removeOrphans();
    const made = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
    folder = made;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return folder;
}

/** Removes this user's copies whose process is gone (killed: its exit handler never ran). */
function removeOrphans(): void {
  try {
    for (const name of readdirSync(tmpdir())) {
      const pid = Number(/^offsite-workers-(\d+)-/.exec(name)?.[1]);
      if (!pid || pid === process.pid || isProcessRunning(pid)) continue;
      const path = join(tmpdir(), name);
      if (statSync(path).uid === process.getuid?.()) rmSync(path, { recursive: true, force: true });
    }
  } catch {
    // Litter is not worth failing a backup over.
  }
}
