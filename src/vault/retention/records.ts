import type { BlobStore } from '../../storage/index.ts';
import type { PointRow } from '../catalog/index.ts';
import { pointRecordName, pointSoftDeleteName, serverPrefix } from '../layout.ts';

// The point records retention reads and removes in storage, beside the ones commit
// writes (src/vault/records.ts):
//   points/<point id>.json           the committed point
//   points/<point id>.soft-deleted   its soft deletion (rebuild-catalog restores it)
//   points/<point id>.undeleted      a person brought it back: retention leaves it alone
//                                    until heldUntil, so it is not expired again at once

export interface HoldRecord {
  version: 1;
  undeletedAt: number;
  heldUntil: number;
}

export function pointHoldName(vaultId: string, serverId: string, pointId: string): string {
  return `${serverPrefix(vaultId, serverId)}points/${pointId}.undeleted`;
}

export function pointsPrefix(vaultId: string, serverId: string): string {
  return `${serverPrefix(vaultId, serverId)}points/`;
}

/** Every object under the server's points/, by point id (the name up to its first dot). */
export async function pointRecords(region: BlobStore, vaultId: string, serverId: string) {
  const prefix = pointsPrefix(vaultId, serverId);
  const byPoint = new Map<string, string[]>();
  for await (const o of region.list(prefix)) {
    const base = o.name.slice(prefix.length);
    const id = base.slice(0, base.indexOf('.') < 0 ? base.length : base.indexOf('.'));
    byPoint.set(id, [...(byPoint.get(id) ?? []), o.name]);
  }
  return byPoint;
}

/** Point ids whose hold is still running at `now`; an unreadable hold holds nothing. */
export async function heldPoints(
  region: BlobStore,
  records: ReadonlyMap<string, string[]>,
  now: number,
): Promise<Set<string>> {
  const held = new Set<string>();
  for (const [id, names] of records) {
    const name = names.find((n) => n.endsWith('.undeleted'));
    if (!name) continue;
    try {
      const hold = JSON.parse((await region.get(name)).toString('utf8')) as HoldRecord;
      if (typeof hold.heldUntil === 'number' && now < hold.heldUntil) held.add(id);
    } catch {
      // A damaged hold is as if there were none: the point is counted by the policy again.
    }
  }
  return held;
}

export async function saveHold(region: BlobStore, point: PointRow, now: number, days: number) {
  const name = pointHoldName(point.vaultId, point.serverId, point.id);
  const hold: HoldRecord = { version: 1, undeletedAt: now, heldUntil: now + days * 86_400_000 };
  // Records are create-only: an older hold goes first.
  await region.delete(name);
  await region.put(name, Buffer.from(`${JSON.stringify(hold)}\n`));
}

/** Removes every record of a point; the committed record goes last. */
export async function removePointRecords(region: BlobStore, point: PointRow): Promise<void> {
  const { vaultId, serverId, id } = point;
  await region.delete(pointHoldName(vaultId, serverId, id));
  await region.delete(pointSoftDeleteName(vaultId, serverId, id));
  await region.delete(pointRecordName(vaultId, serverId, id));
}
