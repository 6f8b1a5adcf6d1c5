import { hostname } from 'node:os';
import { isProcessRunning, readIfExists, writeAtomic } from '../util/index.ts';
import type { Services } from './types.ts';

// A server killed outright (SIGKILL, a power cut) cannot give its task leases back: they
// hold until they run out (60 s), and a failover run it was driving waited that long on
// the next start (measured: RTO 71 s instead of ~11 s). Each server therefore writes its
// holder name into its data folder; the next one started there releases the leases of
// the name it finds if that process is gone from this machine. Only that one holder's
// leases are released, and only when its process is dead here: instances on other
// machines, or alive on this one, keep theirs.

type Note = (msg: string, fields: Record<string, unknown>) => void;

/** `host/pid/random` (see instanceHolder): the pid when the holder ran on this machine. */
function localPid(holder: string): number | undefined {
  const [host, pid] = holder.split('/');
  const n = Number(pid);
  return host === hostname() && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export async function takeOverFromDeadPredecessor(
  file: string,
  holder: string,
  services: Pick<Services, 'catalog' | 'now'>,
  note: Note,
): Promise<void> {
  const previous = (await readIfExists(file))?.trim();
  const pid = previous ? localPid(previous) : undefined;
  if (previous && pid !== undefined && pid !== process.pid && !isProcessRunning(pid)) {
    const now = services.now();
    for (const lease of await services.catalog.listLeases()) {
      if (lease.holder !== previous || lease.expiresAt <= now) continue;
      if (await services.catalog.releaseLease(lease.name, previous, now)) {
        note('lease of a dead predecessor released', { lease: lease.name, previous });
      }
    }
  }
  await writeAtomic(file, `${holder}\n`, 0o600);
}
