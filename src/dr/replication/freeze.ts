import { runHook } from '../../agent/hooks.ts';
import { isOffsiteError, OffsiteError } from '../../errors/index.ts';

// Application-consistent points: the freeze hook quiesces the workload (flush and hold
// writes), the point is taken, the thaw hook lets it go. The thaw runs whatever happened,
// also after a failed or timed-out freeze (a half-done freeze still needs its thaw), each
// hook in its own process group with a timeout (src/agent/hooks.ts).

export interface FreezeHooks {
  freeze?: string | undefined;
  thaw?: string | undefined;
  /** Per hook; past it the hook's process group is killed. */
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_FREEZE_TIMEOUT_MS = 60_000;

export interface Frozen<T> {
  value: T;
  /** True when the freeze hook succeeded: the point is application-consistent. */
  frozen: boolean;
  /** Hook failures, freeze then thaw; the point itself was still taken. */
  hookErrors: OffsiteError[];
}

function renamed(hook: 'freeze' | 'thaw', workload: string, err: unknown): OffsiteError {
  const detail = (err instanceof Error ? err.message : String(err)).replace(/^the p\w+-backup hook /, '');
  const kind = isOffsiteError(err) ? err.kind : 'internal';
  const code = isOffsiteError(err) && err.code.endsWith('_TIMEOUT') ? 'TIMEOUT' : 'FAILED';
  return new OffsiteError(
    kind,
    `${hook.toUpperCase()}_HOOK_${code}`,
    `the ${hook} hook of ${workload} ${detail}`,
    {
      hint:
        hook === 'freeze'
          ? 'the point was taken crash-consistent; fix the freeze hook for application-consistent points'
          : 'check the workload: its thaw did not complete',
    },
  );
}

/**
 * Runs `body` between freeze and thaw. A failed freeze is thawed at once and `body` runs
 * unfrozen (a crash-consistent point beats no point); the caller sees `frozen: false`.
 */
export async function withFreeze<T>(
  workload: string,
  hooks: FreezeHooks,
  body: (frozen: boolean) => Promise<T>,
  record?: (event: string) => void,
): Promise<Frozen<T>> {
  const hookErrors: OffsiteError[] = [];
  const env = { ...(hooks.env ?? process.env), OFFSITE_WORKLOAD: workload };
  const run = async (hook: 'freeze' | 'thaw', command: string | undefined): Promise<boolean> => {
    if (!command) return true;
    record?.(`${hook}:start`);
    try {
      await runHook(
        hook === 'freeze' ? 'pre' : 'post',
        command,
        { timeoutMs: hooks.timeoutMs, env },
        {
          OFFSITE_DR_HOOK: hook,
        },
      );
      record?.(`${hook}:ok`);
      return true;
    } catch (err) {
      record?.(`${hook}:failed`);
      hookErrors.push(renamed(hook, workload, err));
      return false;
    }
  };
  const frozen = await run('freeze', hooks.freeze);
  if (!frozen) await run('thaw', hooks.thaw);
  try {
    const value = await body(frozen);
    return { value, frozen, hookErrors };
  } finally {
    if (frozen) await run('thaw', hooks.thaw);
  }
}
