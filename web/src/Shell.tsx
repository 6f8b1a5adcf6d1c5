import type { Session } from './api.ts';
import { RunView } from './dr/RunView.tsx';
import { Alerts } from './pages/Alerts.tsx';
import { Audit } from './pages/Audit.tsx';
import { Dashboard } from './pages/Dashboard.tsx';
import { Dr } from './pages/Dr.tsx';
import { Jobs } from './pages/Jobs.tsx';
import { Register } from './pages/Register.tsx';
import { VaultPage } from './pages/VaultPage.tsx';
import { Link, useLocation } from './router.tsx';

// The frame around every page: navigation, who is signed in, sign out.

function Page({ session }: { session: Session }) {
  const { path, query } = useLocation();
  const vault = /^\/vaults\/([^/]+)(\/register)?$/.exec(path);
  if (vault) {
    const name = decodeURIComponent(vault[1]!);
    return vault[2] ? (
      <Register vault={name} role={session.role} />
    ) : (
      <VaultPage vault={name} role={session.role} />
    );
  }
  if (path === '/jobs') return <Jobs initialVault={query.get('vault') ?? ''} />;
  if (path === '/alerts') return <Alerts role={session.role} />;
  if (path === '/audit' && session.role === 'owner') return <Audit />;
  if (path === '/dr') return <Dr role={session.role} />;
  const run = /^\/dr\/runs\/([^/]+)$/.exec(path);
  if (run) return <RunView key={run[1]} id={decodeURIComponent(run[1]!)} role={session.role} />;
  return <Dashboard role={session.role} />;
}

export function Shell(props: { session: Session; onSignOut: () => Promise<void> }) {
  const { path } = useLocation();
  const { session } = props;
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Offsite</span>
        <nav aria-label="Main">
          <Link to="/" current={path === '/'}>
            Dashboard
          </Link>
          <Link to="/jobs" current={path === '/jobs'}>
            Jobs
          </Link>
          <Link to="/alerts" current={path === '/alerts'}>
            Alerts
          </Link>
          <Link to="/dr" current={path === '/dr' || path.startsWith('/dr/')}>
            Disaster recovery
          </Link>
          {session.role === 'owner' && (
            <Link to="/audit" current={path === '/audit'}>
              Audit
            </Link>
          )}
        </nav>
        <span className="who">
          {session.user} <span className="badge">{session.role}</span>
        </span>
        <button type="button" onClick={() => void props.onSignOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page session={session} />
      </main>
    </>
  );
}
