import type { Assignment } from './commands.ts';
import type { FencingStore } from './fencing.ts';
import type { DrLayout } from './layout.ts';
import type { ProcessTable } from './processes.ts';
import type { ReplicationManager } from './replication.ts';

// What commands need of the running site agent besides the command itself.

export interface DrContext {
  site: string;
  layout: DrLayout;
  fencing: FencingStore;
  processes: ProcessTable;
  /** Absent when the site agent runs without replication (unit tests). */
  replication?: ReplicationManager;
  /** The environment workload commands start from (the site agent's own). */
  baseEnv: NodeJS.ProcessEnv;
  /** A heartbeat now, for commands that need the server's newest assignments. */
  refresh?: () => Promise<readonly Assignment[]>;
}
