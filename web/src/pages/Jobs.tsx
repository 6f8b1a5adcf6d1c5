import { useState } from 'react';
import { get, type Job, type JobDetail, type Vault, vaultPath } from '../api.ts';
import { bytes, duration, when } from '../format.ts';
import { useAction, usePoll } from '../hooks.ts';
import { ErrorNote, Loading, Section, StatusBadge } from '../ui.tsx';

// Jobs of every vault (or one), newest first, filtered by status, kind and server; a
// job's details list the files it skipped and why.

type VaultJob = Job & { vault: string };

async function loadJobs(): Promise<VaultJob[]> {
  const { vaults } = await get<{ vaults: Vault[] }>('/v1/vaults');
  const lists = await Promise.all(
    vaults.map(async (v) => {
      const { jobs } = await get<{ jobs: Job[] }>(vaultPath(v.name, '/jobs?limit=200'));
      return jobs.map((j) => ({ ...j, vault: v.name }));
    }),
  );
  return lists.flat().sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

function Details({ job }: { job: JobDetail }) {
  return (
    <div className="details" data-testid="job-details">
      <h3>
        {job.kind} of {job.server ?? 'the vault'} — <StatusBadge status={job.status} />
      </h3>
      <p>
        Started {when(job.startedAt)}, took {duration(job.durationMs)}, {bytes(job.bytes)} sent.
      </p>
      {job.error ? <p className="error">{job.error}</p> : null}
      {job.skippedFiles.length === 0 ? (
        <p className="muted">No file was skipped.</p>
      ) : (
        <>
          <p>{job.skippedCount} file(s) skipped:</p>
          <ul className="skipped">
            {job.skippedFiles.map((f) => (
              <li key={f.path}>
                <code>{f.path}</code> — {f.error}
              </li>
            ))}
          </ul>
          {job.skippedFilesOmitted > 0 ? <p className="muted">and {job.skippedFilesOmitted} more</p> : null}
        </>
      )}
    </div>
  );
}

function Filter(props: { label: string; value: string; options: string[]; onChange: (v: string) => void }) {
  return (
    <label>
      {props.label}
      <select value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        <option value="">all</option>
        {props.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Jobs({ initialVault }: { initialVault: string }) {
  const { data, error } = usePoll(loadJobs, 'jobs');
  const [vault, setVault] = useState(initialVault);
  const [status, setStatus] = useState('');
  const [kind, setKind] = useState('');
  const [server, setServer] = useState('');
  const [detail, setDetail] = useState<JobDetail>();
  const open = useAction();
  const all = data ?? [];
  const uniq = (f: (j: VaultJob) => string | null) =>
    [...new Set(all.map(f).filter((x) => x !== null))].sort();
  const shown = all.filter(
    (j) =>
      (!vault || j.vault === vault) &&
      (!status || j.status === status) &&
      (!kind || j.kind === kind) &&
      (!server || j.server === server),
  );
  const show = (j: VaultJob) =>
    void open.run(async () => setDetail(await get<JobDetail>(vaultPath(j.vault, `/jobs/${j.id}`))));
  return (
    <>
      <h1>Jobs</h1>
      <ErrorNote error={error} />
      <search className="filters" aria-label="Filter jobs">
        <Filter label="Vault" value={vault} options={uniq((j) => j.vault)} onChange={setVault} />
        <Filter
          label="Status"
          value={status}
          options={['running', 'succeeded', 'warning', 'failed']}
          onChange={setStatus}
        />
        <Filter label="Kind" value={kind} options={uniq((j) => j.kind)} onChange={setKind} />
        <Filter label="Server" value={server} options={uniq((j) => j.server)} onChange={setServer} />
      </search>
      <Section title={`${shown.length} job(s)`} id="jobs">
        {!data ? (
          <Loading what="jobs" />
        ) : shown.length === 0 ? (
          <p className="muted">No job matches.</p>
        ) : (
          <table data-testid="jobs-table">
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Vault</th>
                <th scope="col">Server</th>
                <th scope="col">Kind</th>
                <th scope="col">Status</th>
                <th scope="col">Duration</th>
                <th scope="col">Sent</th>
                <th scope="col">Skipped</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((j) => (
                <tr key={j.id}>
                  <td>{when(j.startedAt)}</td>
                  <td>{j.vault}</td>
                  <td>{j.server ?? '—'}</td>
                  <td>{j.kind}</td>
                  <td>
                    <StatusBadge status={j.status} />
                  </td>
                  <td>{duration(j.durationMs)}</td>
                  <td>{bytes(j.bytes)}</td>
                  <td>{j.skippedCount}</td>
                  <td>
                    <button
                      type="button"
                      onClick={() => show(j)}
                      aria-label={`Details of the ${j.kind} job of ${j.server ?? j.vault} at ${when(j.startedAt)}`}
                    >
                      Details
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <ErrorNote error={open.error} />
      {detail ? (
        <Section title="Job details" id="job-details">
          <Details job={detail} />
        </Section>
      ) : null}
    </>
  );
}
