import {
  api,
  atLeast,
  get,
  type Point,
  type Policy,
  type Role,
  type ServerInfo,
  type Usage,
  type Vault,
  vaultPath,
} from '../api.ts';
import { ago, bytes, percent, when } from '../format.ts';
import { useAction, usePoll } from '../hooks.ts';
import { Link } from '../router.tsx';
import { ConfirmButton, ErrorNote, Loading, Section } from '../ui.tsx';
import { Breakdown } from '../vault/Breakdown.tsx';
import { ActivePoints, SoftDeletedPoints } from '../vault/Points.tsx';
import { PolicyEditor } from '../vault/PolicyEditor.tsx';
import { Probes, type ServerProbe } from '../vault/Probes.tsx';
import { UsageChart } from '../vault/UsageChart.tsx';

// One vault: how much it uses and why, its servers and their recovery points, the policy,
// soft-deleted points, quota and immutability.

interface VaultData {
  vault: Vault;
  usage: Usage;
  servers: ServerInfo[];
  points: Point[];
  policy: Policy | null;
  probes: ServerProbe[];
}

async function loadVault(name: string): Promise<VaultData> {
  const [vault, usage, servers, points, policy, probes] = await Promise.all([
    get<Vault>(vaultPath(name)),
    get<Usage>(vaultPath(name, '/usage?days=90')),
    get<{ servers: ServerInfo[] }>(vaultPath(name, '/servers')),
    get<{ points: Point[] }>(vaultPath(name, '/points?state=all')),
    get<{ policy: Policy | null }>(vaultPath(name, '/policy')),
    get<{ probes: ServerProbe[] }>(vaultPath(name, '/probes')),
  ]);
  return {
    vault,
    usage,
    servers: servers.servers,
    points: points.points,
    policy: policy.policy,
    probes: probes.probes,
  };
}

function Servers({ servers }: { servers: ServerInfo[] }) {
  if (servers.length === 0) return <p className="muted">No server registered yet.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Server</th>
          <th scope="col">Registered with</th>
          <th scope="col">Last seen</th>
          <th scope="col">Certificate valid until</th>
        </tr>
      </thead>
      <tbody>
        {servers.map((s) => (
          <tr key={s.id}>
            <th scope="row">{s.name}</th>
            <td>{s.via === 'credentials' ? 'vault credentials' : 'uploaded certificate'}</td>
            <td>{ago(s.lastSeenAt)}</td>
            <td>{when(s.certNotAfter)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Settings(props: { vault: Vault; usage: Usage; role: Role; onChanged: () => void }) {
  const { vault, usage } = props;
  const lock = useAction();
  return (
    <>
      <dl className="facts">
        <div>
          <dt>Quota</dt>
          <dd>
            {vault.quotaBytes === null
              ? 'none: the vault grows as needed'
              : `${bytes(vault.quotaBytes)} (${percent(usage.storedBytes, vault.quotaBytes)} used; alerts at 80 % and 95 %, new data refused at 100 %)`}
          </dd>
        </div>
        <div>
          <dt>Soft delete</dt>
          <dd>deleted recovery points are kept {vault.softDeleteDays} days before they go for good</dd>
        </div>
        <div>
          <dt>Immutability</dt>
          <dd data-testid="immutability">
            {vault.immutable
              ? 'immutable: retention can never be reduced'
              : 'not locked: retention can be reduced by a contributor'}
          </dd>
        </div>
      </dl>
      {!vault.immutable && atLeast(props.role, 'owner') ? (
        <ConfirmButton
          label="Make immutable"
          confirm="This cannot be undone: retention can never be reduced again."
          disabled={lock.pending}
          onConfirm={() =>
            void lock.run(async () => {
              await api('POST', vaultPath(vault.name, '/lock'));
              props.onChanged();
            })
          }
        />
      ) : null}
      <ErrorNote error={lock.error} />
    </>
  );
}

export function VaultPage({ vault: name, role }: { vault: string; role: Role }) {
  const { data, error, reload } = usePoll(() => loadVault(name), `vault:${name}`);
  const refresh = () => void reload();
  return (
    <>
      <h1>Vault {name}</h1>
      <p className="links">
        <Link to={`/vaults/${encodeURIComponent(name)}/register`}>Register a server</Link>
        <Link to={`/jobs?vault=${encodeURIComponent(name)}`}>Jobs of this vault</Link>
      </p>
      <ErrorNote error={error} />
      {!data ? (
        <Loading what="the vault" />
      ) : (
        <div className="grid">
          <Section title="Usage over time">
            <UsageChart usage={data.usage} />
            <Breakdown usage={data.usage} />
          </Section>
          <Section title="Quota and immutability">
            <Settings vault={data.vault} usage={data.usage} role={role} onChanged={refresh} />
          </Section>
          <Section title="Servers">
            <Servers servers={data.servers} />
          </Section>
          <Section title="Region probes" id="probes">
            <Probes probes={data.probes} />
          </Section>
          <Section title="Recovery points">
            <ActivePoints points={data.points} />
          </Section>
          <Section title="Soft-deleted recovery points">
            <SoftDeletedPoints vault={name} role={role} points={data.points} onChanged={refresh} />
          </Section>
          <Section title="Backup policy">
            <PolicyEditor vault={name} role={role} policy={data.policy} immutable={data.vault.immutable} />
          </Section>
        </div>
      )}
    </>
  );
}
