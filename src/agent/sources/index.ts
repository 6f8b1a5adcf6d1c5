// Backup sources beyond files: a command's output or a PostgreSQL database (pg_dump)
// streamed into a snapshot as one file, and such a file read back (to stdout, into
// pg_restore). Imports repo, errors and node only.

export { type CommandSource, type CommandSourceOptions, commandSource } from './command.ts';
export { type PostgresRestoreOptions, type PostgresRestoreResult, restoreToPostgres } from './pg-restore.ts';
export { type PostgresTarget, parsePostgresUrl, pgDumpCommand, pgDumpSource } from './postgres.ts';
export { fileContent, findSnapshotFile, type SnapshotFile } from './snapshot-file.ts';
