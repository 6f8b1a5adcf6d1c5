import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConflictError, IntegrityError } from '../../errors/index.ts';
import { readIfExists, writeAtomic } from '../../util/index.ts';

// Fencing epochs as this site knows them, persisted (dr/fencing.json) so a restarted
// site agent still refuses what it refused before. An epoch only ever goes up: the
// newest the site heard of, from a `fence` command or a heartbeat answer. A start with an
// older epoch is refused (FENCED): the workload has moved on to another site since.

export interface FencingEntry {
  epoch: number;
  /** The site active at that epoch, when known. */
  activeSite: string | null;
}

export class FencingStore {
  readonly #file: string;
  #entries: Record<string, FencingEntry> | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    this.#file = file;
  }

  async #load(): Promise<Record<string, FencingEntry>> {
    if (this.#entries) return this.#entries;
    const text = await readIfExists(this.#file);
    try {
      this.#entries = text === undefined ? {} : (JSON.parse(text) as Record<string, FencingEntry>);
    } catch {
      // Refusing everything beats starting something stale: a person must look.
      throw new IntegrityError('FENCING_STATE_DAMAGED', `${this.#file} is not valid JSON`, {
        hint: 'restore it, or remove it after checking the epochs with `offsite dr status`',
      });
    }
    return this.#entries;
  }

  async get(workload: string): Promise<FencingEntry | undefined> {
    return (await this.#load())[workload];
  }

  /**
   * Records `epoch` (and who is active at it) when it is at least the newest known;
   * returns the newest entry afterwards. Writes are serialised and atomic.
   */
  record(workload: string, epoch: number, activeSite: string | null): Promise<FencingEntry> {
    const run = this.#queue.then(async () => {
      const entries = await this.#load();
      const known = entries[workload];
      if (known && known.epoch > epoch) return known;
      if (known && known.epoch === epoch && (activeSite === null || known.activeSite === activeSite))
        return known;
      const entry = { epoch, activeSite: activeSite ?? known?.activeSite ?? null };
      const next = { ...entries, [workload]: entry };
      await mkdir(dirname(this.#file), { recursive: true, mode: 0o700 });
      await writeAtomic(this.#file, `${JSON.stringify(next, null, 2)}\n`, 0o600);
      this.#entries = next;
      return entry;
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Throws FENCED when `epoch` is older than the newest this site knows for the workload. */
  async check(workload: string, epoch: number): Promise<void> {
    const known = await this.get(workload);
    if (known && epoch < known.epoch) {
      throw new ConflictError(
        'FENCED',
        `epoch ${epoch} of ${workload} is stale: this site knows epoch ${known.epoch}${known.activeSite ? ` (active at ${known.activeSite})` : ''}`,
        { hint: 'the workload moved to another site; start it with the current epoch from the server' },
      );
    }
  }
}
