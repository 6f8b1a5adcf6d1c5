import { useCallback, useEffect, useRef, useState } from 'react';
import type { Polled } from '../hooks.ts';

// Polling that speeds up while something moves: every second while `fast(data)` holds
// (a failover in progress), every few seconds otherwise. Never two requests at once; a
// reload asked for during one runs right after it. Data is kept between polls, so the
// page never flashes back to "Loading".

export const FAST_MS = 1000;
export const SLOW_MS = 3000;

export function useLivePoll<T>(load: () => Promise<T>, key: string, fast: (data: T) => boolean): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const loadRef = useRef(load);
  loadRef.current = load;
  const fastRef = useRef(fast);
  fastRef.current = fast;
  const kick = useRef<() => Promise<void>>(async () => {});

  // biome-ignore lint/correctness/useExhaustiveDependencies: key names what is loaded; a new key starts over
  useEffect(() => {
    let stopped = false;
    let busy = false;
    let again = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setData(undefined);
    const tick = async (): Promise<void> => {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      clearTimeout(timer);
      let next = SLOW_MS;
      try {
        const value = await loadRef.current();
        if (stopped) return;
        setData(value);
        setError(undefined);
        next = fastRef.current(value) ? FAST_MS : SLOW_MS;
      } catch (err) {
        if (stopped) return;
        setError(err instanceof Error ? err : new Error(String(err)));
      } finally {
        busy = false;
      }
      if (again) {
        again = false;
        next = 0;
      }
      timer = setTimeout(() => void tick(), next);
    };
    kick.current = tick;
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [key]);

  const reload = useCallback(() => kick.current(), []);
  return { data, error, reload };
}
