/**
 * A counting semaphore measured in arbitrary units (slots, bytes). Bounds memory and
 * concurrency in pipelines: `acquire(n)` waits until n units are free. A request larger
 * than the capacity is admitted alone, so huge items cannot deadlock the pipeline.
 */
export class Semaphore {
  readonly capacity: number;
  #used = 0;
  #waiters: { units: number; resolve: () => void }[] = [];

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get used(): number {
    return this.#used;
  }

  acquire(units = 1): Promise<void> {
    if (this.#fits(units) && this.#waiters.length === 0) {
      this.#used += units;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push({ units, resolve }));
  }

  release(units = 1): void {
    this.#used -= units;
    while (this.#waiters.length > 0 && this.#fits(this.#waiters[0]!.units)) {
      const next = this.#waiters.shift()!;
      this.#used += next.units;
      next.resolve();
    }
  }

  async run<T>(fn: () => Promise<T>, units = 1): Promise<T> {
    await this.acquire(units);
    try {
      return await fn();
    } finally {
      this.release(units);
    }
  }

  #fits(units: number): boolean {
    return this.#used === 0 || this.#used + units <= this.capacity;
  }
}
