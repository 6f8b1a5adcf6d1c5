import { type FormEvent, useState } from 'react';
import { api, type Session } from '../api.ts';
import { useAction } from '../hooks.ts';
import { ErrorNote } from '../ui.tsx';

export function Login(props: { onSignedIn: (s: Session) => void; linkError: Error | undefined }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      props.onSignedIn(await api<Session>('POST', '/v1/console/session', { name, password }));
    });
  };

  return (
    <main className="login">
      <h1>Offsite console</h1>
      <p className="muted">
        Sign in with your user name and password, or open the one-time login link the vault server printed
        when it started.
      </p>
      <ErrorNote error={props.linkError} />
      <form onSubmit={submit} className="card">
        <label>
          User name
          <input
            name="username"
            autoComplete="username"
            required
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button type="submit" className="primary" disabled={action.pending}>
          Sign in
        </button>
        <ErrorNote error={action.error} />
      </form>
    </main>
  );
}
