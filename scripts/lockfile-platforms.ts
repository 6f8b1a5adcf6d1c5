// The registry reachable here does not carry the optional packages for other platforms
// (Biome's binaries for macOS, Windows, musl: 404), so npm leaves them out of
// package-lock.json and then `npm ci` refuses that very lockfile as out of sync. This
// adds the missing entries with their os/cpu/libc, taken from the registry when it has
// them and otherwise read from the package name (cli-<os>-<cpu>[-musl]), so `npm ci`
// works on a fresh clone; npm installs only the package for this platform.
// Run after `npm install` changes the lockfile: `node scripts/lockfile-platforms.ts`.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

interface Platform {
  version: string;
  os?: string | string[];
  cpu?: string | string[];
  libc?: string | string[];
  license?: string;
}

function platformOf(name: string, version: string): Platform {
  try {
    const args = ['view', `${name}@${version}`, 'version', 'os', 'cpu', 'libc', 'license', '--json'];
    return JSON.parse(execFileSync('npm', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch {
    const match = /-(android|darwin|freebsd|linux|win32)-(arm64|x64|arm|ia32)(-musl)?$/.exec(name);
    if (!match)
      throw new Error(`cannot tell the platform of ${name}: not in the registry and no os-cpu suffix`);
    const libc = match[1] === 'linux' ? [match[3] ? 'musl' : 'glibc'] : undefined;
    return { version, os: [match[1]!], cpu: [match[2]!], ...(libc ? { libc } : {}) };
  }
}

type Entry = Record<string, unknown> & { optionalDependencies?: Record<string, string>; dev?: boolean };
const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8')) as { packages: Record<string, Entry> };
let added = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const slot = `node_modules/${name}`;
    if (lock.packages[slot] || !key.startsWith('node_modules/')) continue;
    const meta = platformOf(name, version);
    lock.packages[slot] = {
      version: meta.version,
      ...(meta.cpu ? { cpu: [meta.cpu].flat() } : {}),
      ...(entry.dev ? { dev: true } : {}),
      ...(meta.libc ? { libc: [meta.libc].flat() } : {}),
      ...(meta.license ? { license: meta.license } : {}),
      optional: true,
      ...(meta.os ? { os: [meta.os].flat() } : {}),
    };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(path, `${JSON.stringify({ ...lock, packages: sorted }, null, 2)}\n`);
console.log(`added ${added} platform entries to package-lock.json`);
