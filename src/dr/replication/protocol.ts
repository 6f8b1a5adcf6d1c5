// The replication wire protocol between two site agents. The replica serves each
// workload's repository under its own base path and speaks there exactly the object API
// the vault gives agents (src/storage/http/protocol.ts), so the primary uses the same
// HttpBlobStore as an agent does with a vault:
//
//   <base> = /v1/replication/workloads/<workload>
//   PUT, GET, HEAD, DELETE <base>/v1/agent/repo/objects/<name>   create-only objects
//   GET  <base>/v1/agent/repo/objects?prefix=&after=              listing pages
//   PUT  <base>/key   {key}   the workload's repository key, create-only (pairing)
//
// The replica owns deletion: the sender may delete only its own backup sessions.
import { BadInputError } from '../../errors/index.ts';

export const REPLICATION_PREFIX = '/v1/replication/workloads';

/** Workload ids: what the DR control plane's YAML names allow, safe in a path and a folder name. */
const WORKLOAD_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function validateWorkloadId(id: string): string {
  if (!WORKLOAD_ID.test(id) || id.includes('..')) {
    throw new BadInputError('BAD_WORKLOAD_ID', `"${id.slice(0, 80)}" is not a workload id`, {
      hint: 'a workload id is 1 to 63 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit',
    });
  }
  return id;
}

export function workloadBasePath(workload: string): string {
  return `${REPLICATION_PREFIX}/${validateWorkloadId(workload)}`;
}

/** The body of PUT <base>/key. */
export interface KeyOffer {
  version: 1;
  key: string;
}

/** Tags every replicated point carries; exactly one of the two consistency tags. */
export const DR_TAG = 'offsite-dr';
export const APP_CONSISTENT = 'app-consistent';
export const CRASH_CONSISTENT = 'crash-consistent';
export type Consistency = typeof APP_CONSISTENT | typeof CRASH_CONSISTENT;

export function consistencyOf(tags: readonly string[]): Consistency {
  return tags.includes(APP_CONSISTENT) ? APP_CONSISTENT : CRASH_CONSISTENT;
}
