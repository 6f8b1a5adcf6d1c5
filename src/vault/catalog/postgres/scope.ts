import { AsyncLocalStorage } from 'node:async_hooks';
import { transactionEnded, transactionMisuse } from '../shared/lifecycle.ts';

// One transaction is one connection, but transaction(fn) is async: calls fn makes at the
// same time (Promise.all) must not interleave their statements and savepoints on it. A
// scope is one level of nesting (a transaction, or a savepoint inside one); it runs the
// calls made on it one at a time, and a nested transaction holds it until it ends.
// It also refuses calls that would wait forever: to the catalog itself, or to an outer
// transaction, from inside a transaction that the call would have to wait for.

/** The innermost transaction the current async call chain runs in, if any. */
const current = new AsyncLocalStorage<Scope>();

export class Scope {
  /** The catalog (its shared connection state) the transaction belongs to. */
  readonly owner: object;
  readonly parent: Scope | undefined;
  #turn: Promise<void> = Promise.resolve();
  #child: Scope | undefined;
  #ended = false;

  constructor(owner: object, parent?: Scope) {
    this.owner = owner;
    this.parent = parent;
  }

  /** Runs fn as this transaction's body: calls it makes are known to come from inside. */
  body<T>(fn: () => Promise<T>): Promise<T> {
    return current.run(this, fn);
  }

  /** Runs op after every call made earlier on this scope; `child` is a nested transaction op opens. */
  async exclusive<T>(op: () => Promise<T>, child?: Scope): Promise<T> {
    if (this.#child && current.getStore()?.isWithin(this.#child)) throw transactionMisuse();
    const previous = this.#turn;
    let release = () => {};
    this.#turn = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    try {
      if (this.#ended) throw transactionEnded();
      this.#child = child;
      return await op();
    } finally {
      this.#child = undefined;
      release();
    }
  }

  /** Refuses calls not yet started, waits for the one running: then the transaction may end. */
  async finish(): Promise<void> {
    this.#ended = true;
    await this.#turn;
  }

  isWithin(other: Scope): boolean {
    for (let scope: Scope | undefined = this; scope; scope = scope.parent) {
      if (scope === other) return true;
    }
    return false;
  }

  get running(): boolean {
    return !this.#ended;
  }
}

/** Refuses a call to the catalog itself from inside one of its running transactions. */
export function refuseFromInside(owner: object): void {
  const scope = current.getStore();
  if (scope?.owner === owner && scope.running) throw transactionMisuse();
}
