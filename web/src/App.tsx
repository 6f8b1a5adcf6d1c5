import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, type Session, setSessionToken } from './api.ts';
import { Login } from './pages/Login.tsx';
import { Shell } from './Shell.tsx';

// The session: a one-time login link in the URL fragment (#login=CODE, never sent to a
// server log) is redeemed at once and removed from the address bar; otherwise the server
// says whether the session cookie is signed in.

type SessionAnswer = ({ signedIn: true } & Session) | { signedIn: false };

function takeLinkCode(): string | undefined {
  const match = /^#login=([A-Za-z0-9_-]+)$/.exec(window.location.hash);
  if (!match) return undefined;
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  return match[1];
}

export function App() {
  const [session, setSession] = useState<Session | null>();
  const [linkError, setLinkError] = useState<Error>();

  const signedOut = useCallback(() => setSession(null), []);
  const signedIn = useCallback(
    (s: Session) => {
      setSessionToken(s.csrfToken, signedOut);
      setSession(s);
    },
    [signedOut],
  );

  useEffect(() => {
    const start = async () => {
      const code = takeLinkCode();
      if (code) {
        try {
          signedIn(await api<Session>('POST', '/v1/console/session', { code }));
          return;
        } catch (err) {
          setLinkError(err instanceof ApiError ? err : new Error(String(err)));
        }
      }
      const answer = await api<SessionAnswer>('GET', '/v1/console/session');
      if (answer.signedIn) signedIn(answer);
      else setSession(null);
    };
    const run = () => void start().catch(() => setSession(null));
    run();
    // A link pasted into a tab already on the console changes only the fragment.
    window.addEventListener('hashchange', run);
    return () => window.removeEventListener('hashchange', run);
  }, [signedIn]);

  if (session === undefined) return <p className="muted centered">Opening the console…</p>;
  if (session === null) return <Login onSignedIn={signedIn} linkError={linkError} />;
  return (
    <Shell
      session={session}
      onSignOut={async () => {
        await api('DELETE', '/v1/console/session');
        setSession(null);
      }}
    />
  );
}
