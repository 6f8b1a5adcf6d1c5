import { type FormEvent, useEffect, useState } from 'react';
import { api, atLeast, type Policy, type Role, vaultPath } from '../api.ts';
import { useAction } from '../hooks.ts';
import { ErrorNote } from '../ui.tsx';

// The backup policy: when servers back up and how many points retention keeps. The server
// validates; each refused field comes back in its message.

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const COUNTS = ['daily', 'weekly', 'monthly', 'yearly'] as const;

interface Draft {
  times: string;
  days: string[] | 'daily';
  timeZone: string;
  counts: Record<(typeof COUNTS)[number], string>;
}

function draftOf(policy: Policy | null): Draft {
  const p = policy ?? {
    version: 1,
    schedule: { times: ['01:00'], days: 'daily', timeZone: 'UTC' },
    retention: { daily: 7, weekly: 4, monthly: 12, yearly: 1 },
  };
  return {
    times: p.schedule.times.join(', '),
    days: p.schedule.days,
    timeZone: p.schedule.timeZone,
    counts: {
      daily: String(p.retention.daily),
      weekly: String(p.retention.weekly),
      monthly: String(p.retention.monthly),
      yearly: String(p.retention.yearly),
    },
  };
}

function policyOf(d: Draft): Policy {
  return {
    version: 1,
    schedule: {
      times: d.times
        .split(/[\s,]+/)
        .map((t) => t.trim())
        .filter((t) => t !== ''),
      days: d.days,
      timeZone: d.timeZone.trim(),
    },
    retention: {
      daily: Number(d.counts.daily),
      weekly: Number(d.counts.weekly),
      monthly: Number(d.counts.monthly),
      yearly: Number(d.counts.yearly),
    },
  };
}

export function PolicyEditor(props: {
  vault: string;
  role: Role;
  policy: Policy | null;
  immutable: boolean;
}) {
  const [draft, setDraft] = useState(() => draftOf(props.policy));
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const editable = atLeast(props.role, 'contributor');
  const key = JSON.stringify(props.policy);
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset the draft only when the stored policy changes
  useEffect(() => setDraft(draftOf(props.policy)), [key]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    void action.run(async () => {
      await api('PUT', vaultPath(props.vault, '/policy'), policyOf(draft));
      setSaved(true);
    });
  };
  const toggleDay = (day: string) => {
    const days = draft.days === 'daily' ? [...DAYS] : draft.days;
    const next = days.includes(day) ? days.filter((d) => d !== day) : [...days, day];
    setDraft({ ...draft, days: next.length === 7 ? 'daily' : DAYS.filter((d) => next.includes(d)) });
  };

  return (
    <form onSubmit={submit} aria-label="Backup policy" className="policy">
      {props.policy === null ? (
        <p className="muted">No policy yet: servers back up only when asked.</p>
      ) : null}
      <fieldset disabled={!editable}>
        <legend>Schedule</legend>
        <label>
          Times (HH:MM, comma separated)
          <input
            name="times"
            value={draft.times}
            onChange={(e) => setDraft({ ...draft, times: e.target.value })}
          />
        </label>
        <label>
          Time zone
          <input
            name="timeZone"
            value={draft.timeZone}
            onChange={(e) => setDraft({ ...draft, timeZone: e.target.value })}
          />
        </label>
        <fieldset className="days">
          <legend>Days</legend>
          {DAYS.map((day) => (
            <label key={day} className="check">
              <input
                type="checkbox"
                checked={draft.days === 'daily' || draft.days.includes(day)}
                onChange={() => toggleDay(day)}
              />
              {day}
            </label>
          ))}
        </fieldset>
      </fieldset>
      <fieldset disabled={!editable}>
        <legend>Retention (recovery points kept)</legend>
        {COUNTS.map((c) => (
          <label key={c}>
            {c}
            <input
              name={c}
              type="number"
              min={0}
              value={draft.counts[c]}
              onChange={(e) => setDraft({ ...draft, counts: { ...draft.counts, [c]: e.target.value } })}
            />
          </label>
        ))}
      </fieldset>
      {props.immutable ? (
        <p className="muted">This vault is immutable: retention counts can only go up.</p>
      ) : null}
      {editable ? (
        <button type="submit" className="primary" disabled={action.pending}>
          Save policy
        </button>
      ) : null}
      {saved ? (
        <span role="status" className="ok">
          Policy saved.
        </span>
      ) : null}
      <ErrorNote error={action.error} />
    </form>
  );
}
