// Replication health as the heartbeat carries it, from what the replication data plane
// (../replication, its ReplicationHealth) writes to replication-health.json. Entries
// already in the heartbeat's form pass as they are.

export interface HeartbeatHealth {
  workload: string;
  lastPointAt: string | null;
  lastPointId: string | null;
  consistent: boolean;
  lagMs: number | null;
  error: string | null;
}

type Fields = Record<string, unknown>;

function fromDataPlane(entry: Fields): HeartbeatHealth {
  const point = (entry.lastPoint ?? null) as Fields | null;
  const error = (entry.lastError ?? null) as Fields | null;
  const lag = entry.lagSeconds;
  return {
    workload: String(entry.workload),
    lastPointAt: typeof point?.time === 'string' ? point.time : null,
    lastPointId: typeof point?.id === 'string' ? point.id : null,
    consistent: point?.consistency === 'app-consistent',
    lagMs: typeof lag === 'number' && lag >= 0 ? Math.round(lag * 1000) : null,
    error: error ? `${String(error.code)}: ${String(error.message)}`.slice(0, 2000) : null,
  };
}

/** The heartbeat form of one entry; undefined for what is neither form (left out). */
export function heartbeatHealth(entry: unknown): HeartbeatHealth | Fields | undefined {
  if (typeof entry !== 'object' || entry === null || typeof (entry as Fields).workload !== 'string')
    return undefined;
  const fields = entry as Fields;
  return 'lastPoint' in fields || 'state' in fields ? fromDataPlane(fields) : fields;
}
