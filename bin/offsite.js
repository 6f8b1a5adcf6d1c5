#!/usr/bin/env node
// Launcher: Offsite needs Node >= 24.7 (TypeScript run directly, crypto.argon2, zstd).
// `npm ci` installs a pinned Node inside the project; when the node on PATH is older,
// re-run under that one so `offsite` works from any shell.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'src', 'cli', 'main.ts');
const [major, minor] = process.versions.node.split('.').map(Number);

if (major > 24 || (major === 24 && minor >= 7)) {
  const { main } = await import(entry);
  process.exitCode = await main(process.argv.slice(2));
} else {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    process.stderr.write(
      `offsite: needs Node.js >= 24.7 (this is ${process.version}); run \`npm ci\` in ${root}\n`,
    );
    process.exit(1);
  }
  const result = spawnSync(pinned, [entry, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exitCode = result.status ?? 1;
}
