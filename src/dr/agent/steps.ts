import { isOffsiteError } from '../../errors/index.ts';

// The steps of one command, each timed with its outcome, as the server keeps and shows
// them. A failing step ends the command: its detail starts with the error's stable code.

export interface Step {
  name: string;
  ok: boolean;
  detail: string;
  ms: number;
}

export class StepFailed extends Error {}

export function errorDetail(err: unknown): string {
  if (isOffsiteError(err)) return `${err.code}: ${err.message}`.slice(0, 2000);
  return `INTERNAL: ${err instanceof Error ? err.message : String(err)}`.slice(0, 2000);
}

export class Steps {
  readonly list: Step[] = [];
  /** Data the result carries even when a step fails (a probe's healthy: false). */
  data: Record<string, unknown> = {};

  /** Runs fn as a step; its result is the detail. A throw is recorded and ends the command. */
  async run(name: string, fn: () => Promise<string>): Promise<void> {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    let detail: string;
    try {
      detail = await fn();
    } catch (err) {
      this.list.push({ name, ok: false, detail: errorDetail(err), ms: ms() });
      throw new StepFailed(name);
    }
    this.list.push({ name, ok: true, detail, ms: ms() });
  }

  /** A step that did not pass, without an exception (a probe that said unhealthy). */
  fail(name: string, detail: string, ms = 0): never {
    this.list.push({ name, ok: false, detail, ms });
    throw new StepFailed(name);
  }
}
