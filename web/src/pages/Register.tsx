import { type ChangeEvent, useState } from 'react';
import { ApiError, api, atLeast, type Certificate, get, type Role, vaultPath } from '../api.ts';
import { when } from '../format.ts';
import { useAction, usePoll } from '../hooks.ts';
import { Link } from '../router.tsx';
import { ConfirmButton, ErrorNote, Section } from '../ui.tsx';

// Registering a server, both ways: a vault credentials file the agent redeems once within
// 48 hours, or a certificate the agent already holds (each broken rule is listed).

function saveFile(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function Credentials({ vault }: { vault: string }) {
  const action = useAction();
  const [expires, setExpires] = useState<string>();
  const download = () =>
    void action.run(async () => {
      const file = await api<{ expiresAt: string }>('POST', vaultPath(vault, '/credentials'));
      saveFile(`${vault}.credentials`, `${JSON.stringify(file, null, 2)}\n`);
      setExpires(file.expiresAt);
    });
  return (
    <>
      <p>
        The file is valid 48 hours and once; downloading a new one makes earlier files stop working. On the
        server, run <code>offsite agent register --credentials {vault}.credentials --name NAME</code>.
      </p>
      <button type="button" className="primary" onClick={download} disabled={action.pending}>
        Download vault credentials
      </button>
      {expires ? (
        <p role="status" className="ok">
          Downloaded {vault}.credentials, valid until {when(expires)}.
        </p>
      ) : null}
      <ErrorNote error={action.error} />
    </>
  );
}

/** "certificate rejected, 2 rule(s) broken: CERT_A: why; CERT_B: why" → one line per rule. */
function brokenRules(err: Error | undefined): string[] {
  if (!(err instanceof ApiError) || err.code !== 'CERT_REJECTED') return [];
  const list = err.message.split('broken: ')[1] ?? '';
  return list.split('; ').filter((r) => r !== '');
}

async function certificateText(file: File): Promise<string> {
  const raw = new Uint8Array(await file.arrayBuffer());
  const text = new TextDecoder().decode(raw);
  if (text.includes('-----BEGIN')) return text;
  let binary = '';
  for (const b of raw) binary += String.fromCharCode(b);
  return btoa(binary);
}

function Upload({ vault, onUploaded }: { vault: string; onUploaded: () => void }) {
  const action = useAction();
  const [done, setDone] = useState<string>();
  const upload = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    setDone(undefined);
    void action.run(async () => {
      const cert = await api<Certificate>('POST', vaultPath(vault, '/certificates'), {
        certificate: await certificateText(file),
      });
      setDone(cert.subject);
      onUploaded();
    });
  };
  const rules = brokenRules(action.error);
  return (
    <>
      <label className="file">
        Certificate file (.cer, PEM or DER)
        <input type="file" name="certificate" accept=".cer,.crt,.pem,.der" onChange={upload} />
      </label>
      {done ? (
        <p role="status" className="ok">
          Uploaded the certificate of {done}.
        </p>
      ) : null}
      {rules.length > 0 ? (
        <div className="error" role="alert">
          <strong>The certificate was refused. Each broken rule:</strong>
          <ul data-testid="broken-rules">
            {rules.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
          <div className="hint">make a compliant one with offsite cert create</div>
        </div>
      ) : (
        <ErrorNote error={action.error} />
      )}
    </>
  );
}

function Certificates(props: {
  vault: string;
  role: Role;
  certificates: Certificate[];
  onChanged: () => void;
}) {
  const action = useAction();
  if (props.certificates.length === 0) return <p className="muted">No certificate uploaded.</p>;
  return (
    <>
      <ErrorNote error={action.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Subject</th>
            <th scope="col">Valid until</th>
            <th scope="col">Uploaded</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {props.certificates.map((c) => (
            <tr key={c.id}>
              <td>{c.subject}</td>
              <td>{when(c.notAfter)}</td>
              <td>{when(c.uploadedAt)}</td>
              <td>
                {c.revokedAt ? (
                  `revoked ${when(c.revokedAt)}`
                ) : atLeast(props.role, 'contributor') ? (
                  <ConfirmButton
                    label="Revoke"
                    confirm="Its agent is refused at once."
                    onConfirm={() =>
                      void action.run(async () => {
                        await api('POST', vaultPath(props.vault, `/certificates/${c.id}/revoke`));
                        props.onChanged();
                      })
                    }
                  />
                ) : (
                  'active'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function Register({ vault, role }: { vault: string; role: Role }) {
  const certs = usePoll(
    () => get<{ certificates: Certificate[] }>(vaultPath(vault, '/certificates')),
    `certs:${vault}`,
  );
  const canRegister = atLeast(role, 'contributor');
  return (
    <>
      <h1>Register a server with {vault}</h1>
      <p className="links">
        <Link to={`/vaults/${encodeURIComponent(vault)}`}>Back to the vault</Link>
      </p>
      {canRegister ? (
        <>
          <Section title="With a vault credentials file">
            <Credentials vault={vault} />
          </Section>
          <Section title="With a certificate">
            <p>
              The certificate must be X.509 v3, RSA ≥ 2048 bits or EC P-256+, carry the Client Authentication
              usage, be valid now and for at most 3 years.
            </p>
            <Upload vault={vault} onUploaded={() => void certs.reload()} />
          </Section>
        </>
      ) : (
        <p className="muted">Registering a server needs the contributor role.</p>
      )}
      <Section title="Uploaded certificates">
        <ErrorNote error={certs.error} />
        {certs.data ? (
          <Certificates
            vault={vault}
            role={role}
            certificates={certs.data.certificates}
            onChanged={() => void certs.reload()}
          />
        ) : null}
      </Section>
    </>
  );
}
