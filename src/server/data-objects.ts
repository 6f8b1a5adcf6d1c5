import { BadInputError, NotFoundError } from '../errors/index.ts';
import { type BlobStore, MAX_NAME_LENGTH, validateObjectName } from '../storage/index.ts';
import { agentRepoStore } from '../vault/geo/index.ts';
import { repoPrefix } from '../vault/layout.ts';
import type { AgentIdentity, RequestContext } from './types.ts';

// What the agent data routes share: who the agent is, its repository, the object name
// of the request (checked before any I/O), pack names and Range headers.

export function agentOf(ctx: RequestContext): AgentIdentity {
  if (!ctx.agent) throw new Error('an agent route ran without an authenticated agent');
  return ctx.agent;
}

/**
 * The agent's own repository: its prefix of its vault's region. Reads fall back to the
 * vault's secondary region while the primary fails; writes go to the primary only.
 */
export function agentStore(ctx: RequestContext): BlobStore {
  const { vault, server } = agentOf(ctx);
  return agentRepoStore(ctx.services.regionStore, vault, server.id, ctx.services.log);
}

/** How long a name may be in this agent's repository: the region takes the prefix too. */
export function maxNameLength(agent: AgentIdentity): number {
  return MAX_NAME_LENGTH - repoPrefix(agent.vault.id, agent.server.id).length;
}

/** The valid object name of the request path; BAD_OBJECT_NAME (400) before any I/O. */
export function objectName(ctx: RequestContext): string {
  const name = validateObjectName(ctx.params.name ?? '');
  const max = maxNameLength(agentOf(ctx));
  if (name.length > max) {
    throw new BadInputError(
      'BAD_OBJECT_NAME',
      `bad object name (${name.length} characters): names in this repository are at most ${max} characters`,
      { hint: 'use a shorter name' },
    );
  }
  return name;
}

/** Not the store's own error: that one names the region's location, which is the server's business. */
export function objectNotFound(name: string): NotFoundError {
  return new NotFoundError('OBJECT_NOT_FOUND', `no object named ${name} in this repository`);
}

const PACK_SHAPE = /^data\/([^/]*)\/([0-9A-Fa-f]{64})$/;

/**
 * The pack id (64 lowercase hex) when `name` has the shape of a pack, data/<xx>/<64 hex>;
 * BAD_PACK_NAME when it has that shape but is not written the one right way. Other names
 * under data/ are ordinary objects: they are not packs, so the vault neither records nor
 * collects them.
 */
export function packIdOf(name: string): string | undefined {
  const match = PACK_SHAPE.exec(name);
  if (!match) return undefined;
  const [, folder, id] = match as unknown as [string, string, string];
  if (id !== id.toLowerCase() || folder !== id.slice(0, 2)) {
    throw new BadInputError(
      'BAD_PACK_NAME',
      `${name} is not a pack name: packs are data/<first 2 hex digits of the id>/<id>, lowercase`,
      { hint: 'name a pack by the lowercase hex SHA-256 of its bytes' },
    );
  }
  return id;
}

export interface RequestedRange {
  offset: number;
  length: number;
  /** Inclusive, as in Content-Range. */
  end: number;
}

const RANGE = /^bytes=(\d{1,15})-(\d{1,15})$/;

/**
 * The one range form this API takes, `bytes=START-END` (END inclusive, END ≥ START);
 * undefined without a Range header; BAD_RANGE (400) for any other form.
 */
export function requestedRange(header: string | undefined): RequestedRange | undefined {
  if (header === undefined) return undefined;
  const match = RANGE.exec(header.trim());
  const offset = Number(match?.[1]);
  const end = Number(match?.[2]);
  if (!match || end < offset) {
    throw new BadInputError('BAD_RANGE', 'the Range header must be bytes=START-END, with START ≤ END', {
      hint: 'ask for one range of whole bytes; leave Range out for the whole object',
    });
  }
  return { offset, length: end - offset + 1, end };
}
