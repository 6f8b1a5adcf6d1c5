import { useState } from 'react';
import { type Alert, api, atLeast, get, type Role, type Vault, vaultPath } from '../api.ts';
import { when } from '../format.ts';
import { useAction, usePoll } from '../hooks.ts';
import { ErrorNote, Loading, Section, StatusBadge } from '../ui.tsx';

// Open alerts of every vault; an operator or above acknowledges one (it stays open until
// its cause is gone, but nobody is told about it again).

type VaultAlert = Alert & { vault: string };

async function loadAlerts(all: boolean): Promise<VaultAlert[]> {
  const { vaults } = await get<{ vaults: Vault[] }>('/v1/vaults');
  const lists = await Promise.all(
    vaults.map(async (v) => {
      const { alerts } = await get<{ alerts: Alert[] }>(vaultPath(v.name, all ? '/alerts?all=1' : '/alerts'));
      return alerts.map((a) => ({ ...a, vault: v.name }));
    }),
  );
  return lists.flat().sort((a, b) => b.lastRaisedAt.localeCompare(a.lastRaisedAt));
}

export function Alerts({ role }: { role: Role }) {
  const [all, setAll] = useState(false);
  const { data, error, reload } = usePoll(() => loadAlerts(all), `alerts:${all}`);
  const ack = useAction();
  const acknowledge = (a: VaultAlert) =>
    void ack.run(async () => {
      await api('POST', vaultPath(a.vault, `/alerts/${a.id}/acknowledge`));
      await reload();
    });
  return (
    <>
      <h1>Alerts</h1>
      <label className="check">
        <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} />
        Show resolved alerts too
      </label>
      <ErrorNote error={error ?? ack.error} />
      <Section title={all ? 'All alerts' : 'Open alerts'} id="alerts">
        {!data ? (
          <Loading what="alerts" />
        ) : data.length === 0 ? (
          <p className="muted">No alert. Every backup is on time.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Severity</th>
                <th scope="col">Vault</th>
                <th scope="col">Server</th>
                <th scope="col">What</th>
                <th scope="col">Last raised</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {data.map((a) => (
                <tr key={a.id}>
                  <td>
                    <StatusBadge status={a.severity} />
                  </td>
                  <td>{a.vault}</td>
                  <td>{a.server ?? '—'}</td>
                  <td>{a.message}</td>
                  <td>
                    {when(a.lastRaisedAt)}
                    {a.occurrences > 1 ? ` (${a.occurrences} times)` : ''}
                  </td>
                  <td>
                    {a.state === 'open' && atLeast(role, 'operator') ? (
                      <button type="button" onClick={() => acknowledge(a)} disabled={ack.pending}>
                        Acknowledge
                      </button>
                    ) : (
                      a.state
                    )}
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
