// The `offsite` command line: one file per command under commands/, each thin (parse,
// call a library, print text or --json). This folder may import every layer below it.
// Errors become exit codes in exit-codes.ts and nowhere else.
import { parseArgs } from 'node:util';
import { isOffsiteError } from '../errors/index.ts';
import type { Command } from './command.ts';
import { UsageError } from './command.ts';
import { EXIT, exitCodeFor } from './exit-codes.ts';
import { makeOutput } from './output.ts';
import { COMMANDS } from './registry.ts';

export const VERSION = '0.1.0';

const GLOBAL_HELP: [string, string][] = [
  ['--json', 'print machine-readable JSON on stdout'],
  ['-q, --quiet', 'print no progress or notes on stderr'],
  ['-h, --help', 'show help'],
];

function helpFor(command: Command): string {
  const rows = [...command.optionHelp, ...GLOBAL_HELP];
  const width = Math.max(...rows.map(([flag]) => flag.length));
  const lines = [`usage: ${command.usage}`, '', `${command.summary}.`];
  if (command.details) lines.push('', command.details);
  lines.push('', 'options:', ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`));
  return lines.join('\n');
}

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'offsite — encrypted, deduplicated, incremental backups into vaults',
    '',
    'usage: offsite COMMAND [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'environment: OFFSITE_REPOSITORY, OFFSITE_PASSWORD, OFFSITE_PASSWORD_FILE, OFFSITE_AGENT_DIR,',
    '  OFFSITE_SITE_AGENT_DIR, OFFSITE_SERVER, OFFSITE_TOKEN, OFFSITE_CA_CERT, OFFSITE_CATALOG;',
    '  storage credentials:',
    '  AZURE_STORAGE_KEY or AZURE_STORAGE_SAS, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or *_FILE)',
    'exit codes: 0 ok, 1 failed, 3 partial (some files unreadable), 10 no repository, 12 wrong passphrase',
    '',
    'Run `offsite COMMAND --help` for the options of a command.',
  ].join('\n');
}

function printError(err: unknown, json: boolean, usage?: string): void {
  if (json) {
    const body = isOffsiteError(err)
      ? err.toJSON()
      : { error: 'FAILED', message: err instanceof Error ? err.message : String(err) };
    process.stdout.write(`${JSON.stringify(body)}\n`);
  }
  if (err instanceof UsageError) {
    process.stderr.write(`offsite: ${err.message}\n${usage ? `usage: ${usage}\n` : ''}`);
  } else if (isOffsiteError(err)) {
    process.stderr.write(`offsite: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`);
  } else {
    // An unexpected failure: the stack helps a bug report; it holds no secrets.
    process.stderr.write(
      `offsite: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const entry = COMMANDS.find((c) => c.name === rest[0]);
    process.stdout.write(`${entry ? helpFor(await entry.load()) : mainHelp()}\n`);
    return EXIT.ok;
  }
  if (name === '--version' || name === 'version') {
    process.stdout.write(`offsite ${VERSION}\n`);
    return EXIT.ok;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  const json = rest.includes('--json');
  if (!entry) {
    printError(new UsageError(`unknown command "${name}"; run \`offsite --help\``), json);
    return EXIT.failed;
  }
  const command = await entry.load();
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        ...command.options,
        json: { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(`${helpFor(command)}\n`);
      return EXIT.ok;
    }
    const out = makeOutput(values.json === true, values.quiet === true);
    return await command.run({ values, positionals, out, env });
  } catch (err) {
    const usage =
      err instanceof UsageError ||
      (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'));
    printError(
      usage && !(err instanceof UsageError) ? new UsageError((err as Error).message) : err,
      json,
      command.usage,
    );
    return exitCodeFor(err);
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
