import { useCallback, useEffect, useRef, useState } from 'react';

// Live data by polling: each view asks again every few seconds (never two requests of
// one view at once), so the page follows the server without a reload.

export const POLL_MS = 2500;

export interface Polled<T> {
  data: T | undefined;
  error: Error | undefined;
  reload: () => Promise<void>;
}

export function usePoll<T>(load: () => Promise<T>, key: string, intervalMs = POLL_MS): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const loadRef = useRef(load);
  loadRef.current = load;
  const busy = useRef(false);

  const reload = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      setData(await loadRef.current());
      setError(undefined);
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      busy.current = false;
    }
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: key names what is loaded; a new key starts over
  useEffect(() => {
    setData(undefined);
    void reload();
    const timer = setInterval(() => void reload(), intervalMs);
    return () => clearInterval(timer);
  }, [key, intervalMs, reload]);

  return { data, error, reload };
}

/** A one-off action with its pending state and its error, for buttons and forms. */
export function useAction(): {
  pending: boolean;
  error: Error | undefined;
  run: (fn: () => Promise<void>) => Promise<boolean>;
  clear: () => void;
} {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<Error>();
  const run = useCallback(async (fn: () => Promise<void>) => {
    setPending(true);
    setError(undefined);
    try {
      await fn();
      return true;
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
      return false;
    } finally {
      setPending(false);
    }
  }, []);
  return { pending, error, run, clear: () => setError(undefined) };
}
