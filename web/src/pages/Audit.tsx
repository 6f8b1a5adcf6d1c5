import { useState } from 'react';
import { get } from '../api.ts';
import { when } from '../format.ts';
import { useAction, usePoll } from '../hooks.ts';
import { ErrorNote, Loading, Section, StatusBadge } from '../ui.tsx';

// The audit log (owners): every change made through the API, and every refused attempt,
// newest first; and a check of the hash chain that proves nobody edited it.

interface AuditEntry {
  seq: number;
  time: string;
  actor: { kind: string; name?: string; user?: string; server?: string; site?: string };
  address: string | null;
  action: string;
  target: string | null;
  vault: string | null;
  outcome: 'succeeded' | 'refused' | 'failed';
  errorCode: string | null;
}

interface Verification {
  ok: boolean;
  checked: number;
  broken: { seq: number; reason: string } | null;
}

const SHOWN = 200;

async function loadLatest(): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let after = 0;
  for (let page = 0; page < 20; page++) {
    const answer = await get<{ entries: AuditEntry[]; next: number | null }>(
      `/v1/audit?after=${after}&limit=1000`,
    );
    entries.push(...answer.entries);
    if (answer.next === null) break;
    after = answer.next;
  }
  return entries.slice(-SHOWN).reverse();
}

function who(actor: AuditEntry['actor']): string {
  const name = actor.user ?? actor.name ?? actor.server ?? actor.site;
  return name ? `${actor.kind} ${name}` : actor.kind;
}

export function Audit() {
  const { data, error } = usePoll(loadLatest, 'audit');
  const check = useAction();
  const [verified, setVerified] = useState<Verification>();
  const verify = () =>
    void check.run(async () => {
      setVerified(await get<Verification>('/v1/audit/verify'));
    });
  return (
    <>
      <h1>Audit log</h1>
      <ErrorNote error={error ?? check.error} />
      <Section
        title="Chain of entries"
        actions={
          <button type="button" onClick={verify} disabled={check.pending}>
            Verify the chain
          </button>
        }
      >
        {verified && (
          <p data-testid="audit-verified" role="status">
            {verified.ok
              ? `Intact: ${verified.checked} entries verified, none edited or removed.`
              : `Broken at entry ${verified.broken?.seq}: ${verified.broken?.reason}`}
          </p>
        )}
      </Section>
      <Section title={`Latest changes (at most ${SHOWN})`} id="audit">
        {!data ? (
          <Loading what="the audit log" />
        ) : data.length === 0 ? (
          <p className="muted">Nothing recorded yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">From</th>
                <th scope="col">What</th>
                <th scope="col">Target</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {data.map((e) => (
                <tr key={e.seq}>
                  <td>{e.seq}</td>
                  <td>{when(e.time)}</td>
                  <td>{who(e.actor)}</td>
                  <td>{e.address ?? '—'}</td>
                  <td>{e.action}</td>
                  <td>{e.target ?? '—'}</td>
                  <td>
                    <StatusBadge status={e.outcome} />
                    {e.errorCode ? ` ${e.errorCode}` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}
