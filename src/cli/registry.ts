import type { Command } from './command.ts';

// Every command by name and summary, each loaded only when run: `offsite backup` does not
// load the vault server, the catalog's PostgreSQL driver or the DR manager (~40 MiB of
// resident memory, measured). registry.test.ts holds each summary to its command's.

export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'init',
    summary: 'create a new repository',
    load: async () => (await import('./commands/init.ts')).init,
  },
  {
    name: 'backup',
    summary: 'back up files and folders (or a stream, or a PostgreSQL database) into a new snapshot',
    load: async () => (await import('./commands/backup.ts')).backupCommand,
  },
  {
    name: 'restore',
    summary: 'restore a snapshot into a folder or to where it came from',
    load: async () => (await import('./commands/restore.ts')).restoreCommand,
  },
  {
    name: 'snapshots',
    summary: 'list snapshots (recovery points)',
    load: async () => (await import('./commands/snapshots.ts')).snapshotsCommand,
  },
  {
    name: 'forget',
    summary: 'remove snapshots by a retention policy, or by id',
    load: async () => (await import('./commands/forget.ts')).forgetCommand,
  },
  {
    name: 'ls',
    summary: 'list the files in a snapshot',
    load: async () => (await import('./commands/ls.ts')).lsCommand,
  },
  {
    name: 'diff',
    summary: 'show what changed between two snapshots',
    load: async () => (await import('./commands/diff.ts')).diffCommand,
  },
  {
    name: 'cat',
    summary: 'print a repository object (decrypted) for inspection',
    load: async () => (await import('./commands/cat.ts')).catCommand,
  },
  {
    name: 'dump',
    summary: "write one file of a snapshot to stdout (e.g. a stream's dump)",
    load: async () => (await import('./commands/dump.ts')).dumpCommand,
  },
  {
    name: 'check',
    summary: 'verify the repository: structure, and with --read-data every byte',
    load: async () => (await import('./commands/check.ts')).checkCommand,
  },
  {
    name: 'key',
    summary: 'manage passphrases (key slots): list, add, remove, passwd',
    load: async () => (await import('./commands/key.ts')).keyCommand,
  },
  {
    name: 'prune',
    summary: 'remove data no snapshot needs, without stopping backups',
    load: async () => (await import('./commands/prune.ts')).pruneCommand,
  },
  {
    name: 'repair',
    summary: 'rebuild the index from the packs, or rewrite snapshots around damaged data',
    load: async () => (await import('./commands/repair.ts')).repairCommand,
  },
  {
    name: 'cert',
    summary: 'make a client certificate for vault registration, or check one',
    load: async () => (await import('./commands/cert.ts')).certCommand,
  },
  {
    name: 'server',
    summary: 'run the vault server (HTTPS API over the catalog)',
    load: async () => (await import('./commands/server.ts')).serverCommand,
  },
  {
    name: 'vault',
    summary: 'manage vaults on a vault server: settings, registration, recovery points, usage, jobs',
    load: async () => (await import('./commands/vault/index.ts')).vaultCommand,
  },
  {
    name: 'agent',
    summary: 'this machine as a protected server: registration, daemon, throttle, proxy',
    load: async () => (await import('./commands/agent/index.ts')).agentCommand,
  },
  {
    name: 'site',
    summary: 'disaster recovery sites (data centres) and their site agent credentials',
    load: async () => (await import('./commands/site/index.ts')).siteCommand,
  },
  {
    name: 'site-agent',
    summary: 'this machine as the site agent of a disaster recovery site',
    load: async () => (await import('./commands/site/agent.ts')).siteAgentCommand,
  },
  {
    name: 'dr',
    summary: 'disaster recovery: workloads, recovery plans, failover, failback, drills and RPO/RTO',
    load: async () => (await import('./commands/dr/index.ts')).drCommand,
  },
  {
    name: 'user',
    summary: 'manage the users of a vault server (console sign-in)',
    load: async () => (await import('./commands/user.ts')).userCommand,
  },
  {
    name: 'token',
    summary: 'manage the API tokens of a vault server',
    load: async () => (await import('./commands/token.ts')).tokenCommand,
  },
  {
    name: 'audit',
    summary: "read and verify the vault server's audit log",
    load: async () => (await import('./commands/audit.ts')).auditCommand,
  },
];
