// A job start whose answer is lost must not leave a second, forever "running" job: the
// agent names the job itself, so the vault makes one job of every start carrying that id.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { finishJob, type JobTicket } from '../src/agent/jobs.ts';
import { agentStateOf, registerTestAgent, startTestVault } from './helpers/vault.ts';

const post = (body: unknown) => ({ method: 'POST', body: JSON.stringify(body) });

test('a start sent twice with the same id is one job', async (t) => {
  const v = await startTestVault(t);
  const agent = await registerTestAgent(v, 'prod', 'web1');
  const id = randomUUID();
  const first = await agent.call('/v1/agent/jobs', post({ id, kind: 'verify' }));
  const again = await agent.call('/v1/agent/jobs', post({ id, kind: 'verify' }));
  assert.equal(first.status, 201, first.text);
  assert.equal(again.json().id, id);
  const jobs = (await v.call('/v1/vaults/prod/jobs')).json().jobs;
  assert.deepEqual(
    jobs.map((j: { id: string }) => j.id),
    [id],
  );
});

test('the id of a job is not another agent’s, nor another kind’s', async (t) => {
  const v = await startTestVault(t);
  const web1 = await registerTestAgent(v, 'prod', 'web1');
  const web2 = await registerTestAgent(v, 'prod', 'web2');
  const id = randomUUID();
  await web1.call('/v1/agent/jobs', post({ id, kind: 'verify' }));
  const stolen = await web2.call('/v1/agent/jobs', post({ id, kind: 'verify' }));
  assert.equal(stolen.status, 409);
  assert.equal(stolen.json().error, 'JOB_ID_TAKEN');
  const otherKind = await web1.call('/v1/agent/jobs', post({ id, kind: 'restore' }));
  assert.equal(otherKind.status, 409);
  const bad = await web1.call('/v1/agent/jobs', post({ id: 'not-a-uuid', kind: 'verify' }));
  assert.equal(bad.status, 400);
});

test('the final report of a job whose start answer was lost ends that job', async (t) => {
  const v = await startTestVault(t);
  const agent = await registerTestAgent(v, 'prod', 'web1');
  const state = agentStateOf(v, agent, join(v.dir, 'agent'));
  const ref = randomUUID();
  // The vault made the job, but the agent never heard back: its ticket has no id.
  await agent.call('/v1/agent/jobs', post({ id: ref, kind: 'verify' }));
  const ticket: JobTicket = { kind: 'verify', startedAt: v.clock.now(), ref, finished: false };
  assert.equal(await finishJob(state, ticket, { status: 'succeeded', bytes: 7 }), undefined);
  const jobs = (await v.call('/v1/vaults/prod/jobs')).json().jobs;
  assert.equal(jobs.length, 1, 'one job, not a running one and a finished copy');
  assert.deepEqual([jobs[0].id, jobs[0].status, jobs[0].bytes], [ref, 'succeeded', 7]);
});
