// Fuzzes the parsers of API request bodies: readJson (the raw body), then every parse*
// of a route's JSON (recovery-point commit, policy, jobs, tokens, users, webhooks) on
// arbitrary JSON, objects with arbitrary field values, and pathological long strings
// (a route accepts bodies of up to 2 MiB, so a regex that backtracks is a hang).
// Budget: RUNS per property (300); OFFSITE_FUZZ_RUNS=N runs N instead.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { readJson } from '../../src/server/body.ts';
import { parseJobQuery, parseJobReport, parseJobStart } from '../../src/vault/ops/jobs.ts';
import { parseNewToken } from '../../src/vault/ops/tokens.ts';
import { parseLogin, parseNewUser, parseUserChanges } from '../../src/vault/ops/users.ts';
import { parseWebhook } from '../../src/vault/ops/webhooks.ts';
import { parseCommit } from '../../src/vault/points.ts';
import { validatePolicy } from '../../src/vault/policy.ts';
import {
  anyBytes,
  anyJson,
  fc,
  jsonishBytes,
  objectWithSome,
  params,
  refusesCleanly,
  refusesCleanlyAsync,
  testTimeout,
} from './harness.ts';

const NOW = Date.now();

interface BodyParser {
  name: string;
  keys: string[];
  parse: (body: unknown) => unknown;
  codes: string[];
  /** A body the parser accepts: fuzzed with one field replaced, so later checks are reached. */
  valid: Record<string, unknown>;
}

const HEX = 'a'.repeat(64);
const TIME = '2025-01-01T10:00:00Z';

const PARSERS: BodyParser[] = [
  {
    name: 'parseCommit',
    keys: ['snapshot', 'time', 'stats', 'packs'],
    parse: parseCommit,
    codes: ['BAD_FIELD'],
    valid: { snapshot: HEX, time: TIME, stats: {}, packs: [HEX] },
  },
  {
    name: 'parseJobStart',
    keys: ['kind', 'startedAt'],
    parse: (b) => parseJobStart(b, NOW),
    codes: ['BAD_BODY', 'BAD_FIELD'],
    valid: { kind: 'backup', startedAt: TIME },
  },
  {
    name: 'parseJobReport',
    keys: ['status', 'endedAt', 'bytes', 'error', 'skippedFiles', 'skippedCount'],
    parse: (b) => parseJobReport(b, NOW),
    codes: ['BAD_BODY', 'BAD_FIELD'],
    valid: {
      status: 'failed',
      endedAt: TIME,
      bytes: 1,
      error: 'x',
      skippedFiles: [{ path: '/a', error: 'e' }],
      skippedCount: 1,
    },
  },
  {
    name: 'parseNewToken',
    keys: ['name', 'role', 'vault', 'expiresDays'],
    parse: parseNewToken,
    codes: ['BAD_BODY', 'BAD_FIELD'],
    valid: { name: 'ci', role: 'admin', vault: 'prod', expiresDays: 30 },
  },
  {
    name: 'parseNewUser',
    keys: ['name', 'password', 'role'],
    parse: parseNewUser,
    codes: [],
    valid: { name: 'ann', password: 'a long enough password 1', role: 'admin' },
  },
  {
    name: 'parseUserChanges',
    keys: ['role', 'password'],
    parse: parseUserChanges,
    codes: [],
    valid: { role: 'admin', password: 'a long enough password 1' },
  },
  {
    name: 'parseLogin',
    keys: ['name', 'password'],
    parse: parseLogin,
    codes: ['BAD_BODY', 'BAD_FIELD'],
    valid: { name: 'ann', password: 'secret' },
  },
  {
    name: 'parseWebhook',
    keys: ['url', 'secret'],
    parse: parseWebhook,
    codes: [],
    valid: { url: 'https://hooks.example/x', secret: 'a webhook secret of length' },
  },
  {
    name: 'validatePolicy',
    keys: ['version', 'schedule', 'retention', 'sources'],
    parse: validatePolicy,
    codes: ['BAD_POLICY'],
    valid: {
      version: 1,
      schedule: { times: ['02:00'], days: ['mon'], timeZone: 'UTC' },
      retention: { daily: 7 },
      sources: { paths: ['/etc'], excludes: ['*.tmp'] },
    },
  },
];

/** Field values a hand-written check may not expect, long ones included. */
const LONG = 256 * 1024;
const PATHOLOGICAL = [
  'T'.repeat(LONG),
  `${'T'.repeat(LONG)}Z`,
  '0'.repeat(LONG),
  ' '.repeat(LONG),
  '/'.repeat(LONG),
  '['.repeat(LONG),
  '*'.repeat(LONG),
  'a'.repeat(LONG),
  '\u0000'.repeat(LONG),
  `https://${'a'.repeat(LONG)}`,
];
const pathologicalString = fc.constantFrom(...PATHOLOGICAL);
const nestedValue = fc.oneof(
  anyJson,
  pathologicalString,
  fc.array(pathologicalString, { maxLength: 3 }),
  fc.record({
    times: fc.array(pathologicalString, { maxLength: 2 }),
    paths: fc.array(pathologicalString, { maxLength: 2 }),
  }),
);

function bodies(keys: string[], valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const some: Record<string, fc.Arbitrary<unknown>> = {};
  for (const key of keys) some[key] = nestedValue;
  const oneReplaced = fc
    .tuple(fc.constantFrom(...keys), nestedValue)
    .map(([key, value]) => ({ ...valid, [key]: value }));
  return fc.oneof(anyJson, objectWithSome(keys), fc.record(some, { requiredKeys: [] }), oneReplaced);
}

function request(bytes: Buffer, contentType: string | undefined): IncomingMessage {
  const stream = Readable.from(bytes.length === 0 ? [] : [bytes]) as unknown as IncomingMessage;
  stream.headers = contentType === undefined ? {} : { 'content-type': contentType };
  return stream;
}

describe('fuzz: API bodies', () => {
  for (const parser of PARSERS) {
    it(`${parser.name} returns a value or a BadInputError for any body`, { timeout: testTimeout() }, () => {
      fc.assert(
        fc.property(bodies(parser.keys, parser.valid), (body) => {
          const bytes = JSON.stringify(body)?.length ?? 0;
          refusesCleanly(
            parser.name,
            bytes,
            () => parser.parse(body),
            parser.codes.length > 0 ? parser.codes : undefined,
          );
        }),
        params(),
      );
    });
  }

  it('every parser refuses each field set to each long pathological string at once', {
    timeout: testTimeout(),
  }, () => {
    // Exhaustive, not sampled: a backtracking regex on one field is a hang of the server.
    for (const parser of PARSERS) {
      for (const key of parser.keys) {
        for (const text of PATHOLOGICAL) {
          const body = { ...parser.valid, [key]: text };
          refusesCleanly(`${parser.name} (${key})`, text.length, () => parser.parse(body));
        }
      }
    }
  });

  it('parseJobQuery returns a query or a BadInputError for any query string', {
    timeout: testTimeout(),
  }, () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        refusesCleanly('parseJobQuery', text.length, () => parseJobQuery(new URLSearchParams(text)), [
          'BAD_FIELD',
        ]);
      }),
      params(),
    );
  });

  it('readJson returns parsed JSON or BAD_JSON, UNSUPPORTED_MEDIA_TYPE, BODY_TOO_LARGE', {
    timeout: testTimeout(),
  }, async () => {
    const type = fc.constantFrom(
      undefined,
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      '',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(anyBytes, jsonishBytes),
        type,
        fc.nat({ max: 5000 }),
        async (bytes, ct, limit) => {
          await refusesCleanlyAsync('readJson', bytes.length, () => readJson(request(bytes, ct), limit), [
            'BAD_JSON',
            'UNSUPPORTED_MEDIA_TYPE',
            'BODY_TOO_LARGE',
          ]);
        },
      ),
      params(),
    );
  });

  it('readJson parses deeply nested JSON without overflowing the stack', async () => {
    const depth = 1_000_000;
    const bytes = Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`);
    await refusesCleanlyAsync(
      'readJson',
      bytes.length,
      () => readJson(request(bytes, undefined), bytes.length),
      ['BAD_JSON'],
    );
    assert.ok(true);
  });
});
