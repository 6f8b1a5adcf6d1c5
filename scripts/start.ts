// `npm start`: the vault server on embedded defaults (SQLite catalog, a filesystem region
// under ./offsite-data, or $OFFSITE_DATA), and a first protected server so a newcomer sees
// the whole path work: a vault, a credentials file, an agent registered with it, an
// encrypted backup of this project through the vault, a restore, and the usage report.
// Then the server keeps running (Ctrl-C stops it) for `offsite vault ...` to explore;
// with --once it stops after the demonstration.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { main } from '../src/cli/main.ts';
import { generatePassphrase } from '../src/cli/passphrase.ts';
import { startServer } from '../src/server/index.ts';

const project = resolve(import.meta.dirname, '..');
const data = resolve(process.env.OFFSITE_DATA ?? join(project, 'offsite-data'));
const once = process.argv.includes('--once');
const listen = process.env.OFFSITE_LISTEN ?? '127.0.0.1:8443';

async function step(title: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  process.stdout.write(`\n$ offsite ${args.join(' ')}    # ${title}\n`);
  const code = await main(args, env);
  if (code !== 0) throw new Error(`step "${title}" failed with exit code ${code}`);
}

await mkdir(data, { recursive: true, mode: 0o700 });
const server = await startServer({ dataDir: join(data, 'server'), listen, log: () => {} });
process.stdout.write(
  `vault server listening on ${server.url}\n` +
    `  data:        ${join(data, 'server')} (catalog.sqlite, ca.pem, admin-token; region local in regions/local)\n` +
    `  admin token: ${server.files.adminToken}\n` +
    `  console login link (one use, 15 minutes): ${server.loginUrl}\n`,
);
const admin: NodeJS.ProcessEnv = {
  ...process.env,
  OFFSITE_SERVER: server.url,
  OFFSITE_CA_CERT: server.files.caCert,
  OFFSITE_TOKEN: (await readFile(server.files.adminToken, 'utf8')).trim(),
};
const passFile = join(data, 'passphrase');
const agent: NodeJS.ProcessEnv = {
  ...process.env,
  OFFSITE_AGENT_DIR: join(data, 'agent'),
  OFFSITE_PASSWORD_FILE: passFile,
};
delete agent.OFFSITE_REPOSITORY;
delete agent.OFFSITE_PASSWORD;

try {
  if (!existsSync(join(data, 'agent', 'agent.json'))) {
    await step('create a vault', ['vault', 'create', 'demo', '--region', 'local'], admin);
    const credentials = join(data, 'demo.credentials');
    await step('download vault credentials', ['vault', 'credentials', 'demo', '--out', credentials], admin);
    await step(
      'register this machine',
      ['agent', 'register', '--credentials', credentials, '--name', 'demo-server'],
      agent,
    );
    await writeFile(passFile, `${generatePassphrase()}\n`, { mode: 0o600 });
    await step('create the encrypted repository in the vault', ['init'], agent);
  }
  const sources = [join(project, 'src'), join(project, 'docs'), join(project, 'README.md')];
  await step('back up the project sources through the vault', ['backup', ...sources], agent);
  await step('list recovery points', ['snapshots'], agent);
  const target = join(data, 'restored');
  await step('restore the latest recovery point', ['restore', 'latest', '--target', target], agent);
  await step('how much is stored, and why', ['vault', 'usage', 'demo'], admin);
  process.stdout.write(
    `\nDone. Restored copy: ${target}${project}\n` +
      `Passphrase file: ${passFile} (keep it safe: without it nothing can be restored)\n` +
      `Try: OFFSITE_SERVER=${server.url} OFFSITE_CA_CERT=${server.files.caCert} ` +
      `OFFSITE_TOKEN=$(cat ${server.files.adminToken}) npx offsite vault points demo\n`,
  );
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  await server.close();
  process.exit(1);
}

if (once) {
  await server.close();
} else {
  process.stdout.write('\nThe vault server keeps running; Ctrl-C stops it.\n');
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await server.close();
}
