import { type ReactNode, useState } from 'react';
import { ApiError } from './api.ts';

// Small shared pieces: error notes, sections, a two-step confirmation for actions that
// cannot be taken back.

export function ErrorNote({ error }: { error: Error | undefined }) {
  if (!error) return null;
  const hint = error instanceof ApiError ? error.hint : undefined;
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <div className="error" role="alert">
      {code ? <strong>{code}: </strong> : null}
      {error.message}
      {hint ? <div className="hint">{hint}</div> : null}
    </div>
  );
}

export function Section(props: { title: string; children: ReactNode; actions?: ReactNode; id?: string }) {
  const headingId = `${props.id ?? props.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-heading`;
  return (
    <section className="card" aria-labelledby={headingId}>
      <div className="card-head">
        <h2 id={headingId}>{props.title}</h2>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}

export function Loading({ what }: { what: string }) {
  return <p className="muted">Loading {what}…</p>;
}

/** A destructive or irreversible action: the first click asks, the second does it. */
export function ConfirmButton(props: {
  label: string;
  confirm: string;
  onConfirm: () => void;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" className="danger" data-destructive="" onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  }
  return (
    <span className="confirm">
      <span>{props.confirm}</span>
      <button
        type="button"
        className="danger"
        data-destructive=""
        disabled={props.disabled}
        onClick={() => {
          setAsking(false);
          props.onConfirm();
        }}
      >
        Yes, {props.label.toLowerCase()}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}
