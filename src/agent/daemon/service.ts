import { execFile } from 'node:child_process';
import { access, mkdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { BadInputError, errnoCode } from '../../errors/index.ts';
import { writeAtomic } from '../../util/index.ts';

// The agent daemon as a systemd service: a template unit, offsite-agent@.service, whose
// instance is an agent folder's path escaped as `systemd-escape --path` does
// (offsite-agent@etc-offsite-agent.service runs the agent of /etc/offsite/agent), so one
// machine runs one daemon per agent folder. packaging/offsite-agent@.service is the
// template as a package installs it; `offsite agent install-service` writes the same
// text with this installation's command, plus an instance drop-in (user, passphrase file).

export const SYSTEM_UNIT_DIR = '/etc/systemd/system';
export const TEMPLATE_NAME = 'offsite-agent@.service';
export const PACKAGED_EXEC = '/usr/bin/offsite';
const ROOT = resolve(import.meta.dirname, '../../..');

/** The unit instance name for a folder: the path escaped as `systemd-escape --path` does. */
export function escapePath(path: string): string {
  const simple = path.split('/').filter((s) => s !== '' && s !== '.');
  if (simple.length === 0) return '-';
  const bytes = Buffer.from(simple.join('/'), 'utf8');
  let out = '';
  bytes.forEach((b, i) => {
    const c = String.fromCharCode(b);
    if (c === '/') out += '-';
    else if ((i === 0 && c === '.') || !/[A-Za-z0-9:_.]/.test(c) || b > 0x7f) {
      out += `\\x${b.toString(16).padStart(2, '0')}`;
    } else out += c;
  });
  return out;
}

/** One argument of ExecStart: % doubled (a specifier otherwise), quoted when it needs it. */
function execArg(arg: string): string {
  const text = arg.replaceAll('%', '%%');
  return /[\s"'\\;$]/.test(text) ? `"${text.replace(/(["\\])/g, '\\$1')}"` : text;
}

/** The command that starts this installation: its Node and its launcher, absolute. */
export function installedCommand(): string[] {
  return [process.execPath, '--max-semi-space-size=8', join(ROOT, 'bin', 'offsite.js')];
}

export function templateUnit(command: string[] = [PACKAGED_EXEC]): string {
  const exec = [...command, 'agent', 'run'].map(execArg).join(' ');
  return `# Offsite backup agent: \`offsite agent run\` for one agent folder. The instance is the
# folder's path as \`systemd-escape --path\` spells it (%f below): enable
# offsite-agent@etc-offsite-agent.service for /etc/offsite/agent. The passphrase is read
# from <agent folder>/passphrase (mode 0600) unless a drop-in sets OFFSITE_PASSWORD_FILE;
# \`offsite agent install-service\` writes this file and that drop-in.
[Unit]
Description=Offsite backup agent for %f
Wants=network-online.target
After=network-online.target
AssertPathExists=%f/agent.json

[Service]
Type=simple
Environment="OFFSITE_AGENT_DIR=%f"
Environment="OFFSITE_PASSWORD_FILE=%f/passphrase"
ExecStart=${exec}
# On SIGTERM a running backup gets 30 s to finish, then is abandoned cleanly (the engine
# is crash-safe; the next backup goes on from what was uploaded): stop within 60 s.
KillMode=mixed
TimeoutStopSec=60
Restart=on-failure
RestartSec=30
UMask=0077
Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7
NoNewPrivileges=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
`;
}

export function instanceDropIn(options: { agentDir: string; user?: string; passwordFile?: string }): string {
  const lines = [
    `# Written by \`offsite agent install-service\` for the agent folder ${options.agentDir}.`,
    '[Service]',
  ];
  if (options.user) lines.push(`User=${options.user}`);
  if (options.passwordFile) {
    lines.push(`Environment="OFFSITE_PASSWORD_FILE=${options.passwordFile.replaceAll('%', '%%')}"`);
  }
  return `${lines.join('\n')}\n`;
}

export interface InstallOptions {
  agentDir: string;
  user?: string;
  passwordFile?: string;
  unitDir?: string;
  /** The command in ExecStart (default: this installation's). */
  command?: string[];
}

export interface Installed {
  unit: string;
  files: string[];
  reloaded: boolean;
  notes: string[];
}

function checkOptions(options: InstallOptions): void {
  for (const [flag, path] of [
    ['--agent-dir', options.agentDir],
    ['--password-file', options.passwordFile],
  ] as const) {
    if (path !== undefined && (!isAbsolute(path) || /[\n\r\0"\\]/.test(path))) {
      throw new BadInputError('BAD_PATH', `${flag} must be an absolute path without quotes or line breaks`);
    }
  }
  if (options.user !== undefined && !/^[a-z_][a-z0-9_.-]{0,31}\$?$/i.test(options.user)) {
    throw new BadInputError('BAD_USER', `"${options.user}" is not a user name`);
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function notesFor(options: InstallOptions): Promise<string[]> {
  const notes: string[] = [];
  if (!(await exists(join(options.agentDir, 'agent.json')))) {
    notes.push(`${options.agentDir} holds no registration yet: run \`offsite agent register\` there first`);
  }
  const passwordFile = options.passwordFile ?? join(options.agentDir, 'passphrase');
  if (!(await exists(passwordFile))) {
    notes.push(`write the repository passphrase to ${passwordFile} (mode 0600) before starting the service`);
  }
  if (options.user) {
    const owner = await stat(options.agentDir).then(
      (s) => s.uid,
      () => undefined,
    );
    const uid = await userId(options.user);
    if (owner !== undefined && uid !== undefined && owner !== uid) {
      notes.push(`the service runs as ${options.user}: chown -R ${options.user} ${options.agentDir}`);
    }
  }
  return notes;
}

async function userId(user: string): Promise<number | undefined> {
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  const line = passwd.split('\n').find((l) => l.split(':')[0] === user);
  return line ? Number(line.split(':')[2]) : undefined;
}

function daemonReload(): Promise<boolean> {
  return new Promise((done) => {
    execFile('systemctl', ['daemon-reload'], (err) => done(!err));
  });
}

/** Writes the template unit and this folder's drop-in; reloads systemd for the real unit folder. */
export async function installService(options: InstallOptions): Promise<Installed> {
  checkOptions(options);
  const unitDir = options.unitDir ?? SYSTEM_UNIT_DIR;
  const unit = `offsite-agent@${escapePath(options.agentDir)}.service`;
  const dropInDir = join(unitDir, `${unit}.d`);
  try {
    await mkdir(dropInDir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new BadInputError(
      'UNIT_DIR_UNWRITABLE',
      `cannot write to ${unitDir} (${errnoCode(err) ?? 'error'})`,
      {
        hint: 'run as root, or give --unit-dir',
      },
    );
  }
  const template = join(unitDir, TEMPLATE_NAME);
  const dropIn = join(dropInDir, 'offsite.conf');
  await writeAtomic(template, templateUnit(options.command ?? installedCommand()), 0o644);
  await writeAtomic(dropIn, instanceDropIn(options), 0o644);
  const reloaded = resolve(unitDir) === SYSTEM_UNIT_DIR && (await daemonReload());
  return { unit, files: [template, dropIn], reloaded, notes: await notesFor(options) };
}
