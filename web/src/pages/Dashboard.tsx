import { type FormEvent, useState } from 'react';
import {
  type Alert,
  api,
  atLeast,
  get,
  type Job,
  type Role,
  type ServerInfo,
  type Usage,
  type Vault,
  vaultPath,
} from '../api.ts';
import { ago, bytes } from '../format.ts';
import { useAction, usePoll } from '../hooks.ts';
import { Link, navigate } from '../router.tsx';
import { ErrorNote, Loading, Section, StatusBadge } from '../ui.tsx';

// At a glance: every vault, the servers it protects, last night's jobs, open alerts and
// the storage used.

interface VaultSummary {
  vault: Vault;
  servers: ServerInfo[];
  jobs: Job[];
  alerts: Alert[];
  usage: Usage;
}

const DAY_MS = 86_400_000;

async function loadSummaries(): Promise<VaultSummary[]> {
  const { vaults } = await get<{ vaults: Vault[] }>('/v1/vaults');
  return Promise.all(
    vaults.map(async (vault) => {
      const [servers, jobs, alerts, usage] = await Promise.all([
        get<{ servers: ServerInfo[] }>(vaultPath(vault.name, '/servers')),
        get<{ jobs: Job[] }>(vaultPath(vault.name, '/jobs?limit=100')),
        get<{ alerts: Alert[] }>(vaultPath(vault.name, '/alerts')),
        get<Usage>(vaultPath(vault.name, '/usage?days=1')),
      ]);
      return { vault, servers: servers.servers, jobs: jobs.jobs, alerts: alerts.alerts, usage };
    }),
  );
}

function lastNight(jobs: Job[]): Job[] {
  const since = Date.now() - DAY_MS;
  return jobs.filter((j) => new Date(j.startedAt).getTime() >= since);
}

function Totals({ summaries }: { summaries: VaultSummary[] }) {
  const recent = summaries.flatMap((s) => lastNight(s.jobs));
  const count = (status: Job['status']) => recent.filter((j) => j.status === status).length;
  const stored = summaries.reduce((n, s) => n + s.usage.storedBytes, 0);
  const protectedBytes = summaries.reduce((n, s) => n + s.usage.protectedBytes, 0);
  const alerts = summaries.reduce((n, s) => n + s.alerts.filter((a) => a.state !== 'resolved').length, 0);
  return (
    <dl className="totals" aria-label="Totals">
      <div>
        <dt>Vaults</dt>
        <dd data-testid="total-vaults">{summaries.length}</dd>
      </div>
      <div>
        <dt>Servers protected</dt>
        <dd data-testid="total-servers">{summaries.reduce((n, s) => n + s.servers.length, 0)}</dd>
      </div>
      <div>
        <dt>Jobs in the last 24 h</dt>
        <dd data-testid="total-jobs">
          {count('succeeded')} succeeded, {count('warning')} with warnings, {count('failed')} failed
          {count('running') > 0 ? `, ${count('running')} running` : ''}
        </dd>
      </div>
      <div>
        <dt>Open alerts</dt>
        <dd data-testid="total-alerts">{alerts}</dd>
      </div>
      <div>
        <dt>Storage used</dt>
        <dd data-testid="total-stored">
          {bytes(stored)} <span className="muted">for {bytes(protectedBytes)} protected</span>
        </dd>
      </div>
    </dl>
  );
}

function VaultRows({ summaries }: { summaries: VaultSummary[] }) {
  if (summaries.length === 0) return <p className="muted">No vault yet.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Vault</th>
          <th scope="col">Region</th>
          <th scope="col">Servers</th>
          <th scope="col">Last job</th>
          <th scope="col">Open alerts</th>
          <th scope="col">Protected</th>
          <th scope="col">Stored</th>
        </tr>
      </thead>
      <tbody>
        {summaries.map(({ vault, servers, jobs, alerts, usage }) => (
          <tr key={vault.id}>
            <th scope="row">
              <Link to={`/vaults/${encodeURIComponent(vault.name)}`}>{vault.name}</Link>
            </th>
            <td>{vault.region}</td>
            <td>{servers.length}</td>
            <td>
              {jobs[0] ? (
                <>
                  <StatusBadge status={jobs[0].status} /> {jobs[0].server} {ago(jobs[0].startedAt)}
                </>
              ) : (
                <span className="muted">none</span>
              )}
            </td>
            <td>{alerts.length}</td>
            <td>{bytes(usage.protectedBytes)}</td>
            <td>{bytes(usage.storedBytes)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CreateVault({ defaultRegion, onCreated }: { defaultRegion: string; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [region, setRegion] = useState(defaultRegion);
  const [quotaGiB, setQuotaGiB] = useState('');
  const action = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const quota = quotaGiB.trim() === '' ? null : Math.round(Number(quotaGiB) * 1024 ** 3);
      await api('POST', '/v1/vaults', { name, region, quotaBytes: quota });
      onCreated();
      navigate(`/vaults/${encodeURIComponent(name)}`);
    });
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Create a vault">
      <label>
        Name
        <input name="vault-name" required value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Region
        <input name="region" required value={region} onChange={(e) => setRegion(e.target.value)} />
      </label>
      <label>
        Quota (GiB, empty for none)
        <input
          name="quota"
          inputMode="decimal"
          value={quotaGiB}
          onChange={(e) => setQuotaGiB(e.target.value)}
        />
      </label>
      <button type="submit" className="primary" disabled={action.pending}>
        Create vault
      </button>
      <ErrorNote error={action.error} />
    </form>
  );
}

export function Dashboard({ role }: { role: Role }) {
  const { data, error, reload } = usePoll(loadSummaries, 'dashboard');
  return (
    <>
      <h1>Dashboard</h1>
      <ErrorNote error={error} />
      {data ? <Totals summaries={data} /> : <Loading what="vaults" />}
      <Section title="Vaults">{data ? <VaultRows summaries={data} /> : null}</Section>
      {atLeast(role, 'contributor') && data ? (
        <Section title="New vault">
          <CreateVault defaultRegion={data[0]?.vault.region ?? 'local'} onCreated={() => void reload()} />
        </Section>
      ) : null}
    </>
  );
}
