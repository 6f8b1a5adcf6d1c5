import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { ErrorNote } from '../ui.tsx';

// The confirmation of a real failover: a modal dialog (the browser's own <dialog>, which
// keeps focus inside and closes on Escape) where the person types the plan's name. Focus
// goes to that field on open and back to the button that opened it on close.

export type RealKind = 'planned' | 'unplanned' | 'failback';

const LABEL: Record<RealKind, string> = {
  planned: 'Planned failover',
  unplanned: 'Unplanned failover',
  failback: 'Failback',
};

const WHAT: Record<RealKind, string[]> = {
  planned: [
    'Stops production at the source site, group by group in reverse order.',
    'Replicates the last changes, then fences the source: no data is lost.',
    'Starts each group at the target site in order, waiting for it to be healthy.',
  ],
  unplanned: [
    'Fences the source site without waiting for it: it must not run these workloads again.',
    'Starts each group at the target site from the recovery point you choose.',
    'Changes written after that point are lost.',
  ],
  failback: [
    'A planned failover back to the original site, now that replication runs towards it.',
    'Stops production here, replicates the last changes, fences this site: no data is lost.',
    'Starts each group at the original site in order, waiting for it to be healthy.',
  ],
};

export function FailoverDialog(props: {
  plan: string;
  type: RealKind;
  pending: boolean;
  error: Error | undefined;
  onStart: (point: string) => void;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const onCloseRef = useRef(props.onClose);
  onCloseRef.current = props.onClose;
  const [typed, setTyped] = useState('');
  const [point, setPoint] = useState('latest');
  const titleId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dialog.showModal();
    input.current?.focus();
    const close = () => onCloseRef.current();
    dialog.addEventListener('close', close);
    return () => {
      dialog.removeEventListener('close', close);
      if (dialog.open) dialog.close();
      opener?.focus();
    };
  }, []);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (typed === props.plan) props.onStart(point);
  };
  const label = LABEL[props.type];
  return (
    <dialog ref={ref} className="dr-dialog" aria-labelledby={titleId}>
      <form onSubmit={submit}>
        <h2 id={titleId}>
          {label} of {props.plan}
        </h2>
        <ul>
          {WHAT[props.type].map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
        {props.type === 'unplanned' ? (
          <label>
            Recovery point
            <select value={point} onChange={(e) => setPoint(e.target.value)}>
              <option value="latest">the latest point</option>
              <option value="latest-consistent">the latest application-consistent point</option>
            </select>
          </label>
        ) : null}
        <label>
          Type the plan name, {props.plan}, to confirm
          <input
            ref={input}
            autoComplete="off"
            spellCheck={false}
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
          />
        </label>
        <ErrorNote error={props.error} />
        <div className="dr-dialog-buttons">
          <button type="button" onClick={() => ref.current?.close()}>
            Cancel
          </button>
          <button
            type="submit"
            className="danger"
            data-destructive=""
            disabled={typed !== props.plan || props.pending}
          >
            Start {label.toLowerCase()}
          </button>
        </div>
      </form>
    </dialog>
  );
}
