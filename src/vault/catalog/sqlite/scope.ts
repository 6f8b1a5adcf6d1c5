import { AsyncLocalStorage } from 'node:async_hooks';
import { transactionEnded, transactionMisuse } from '../shared/lifecycle.ts';

// One SQLite connection serves the whole catalog, but transaction(fn) is async: while fn
// awaits, other callers must not slip their statements into its transaction. A scope is
// one level of nesting (the catalog itself, or one transaction); calls on a scope wait
// while a transaction started from it runs. Deciding and running a statement happen in
// one synchronous step, so nothing can start in between.

const WAITS_FOREVER = 'the catalog was called directly inside its own transaction, which would wait forever';

/** The innermost transaction the current async call chain runs in, if any. */
const current = new AsyncLocalStorage<Scope>();

export class Scope {
  readonly parent: Scope | undefined;
  #child: { scope: Scope; done: Promise<void> } | undefined;
  #ended = false;

  constructor(parent?: Scope) {
    this.parent = parent;
  }

  /** Waits until no transaction runs from this scope, then runs op at once. */
  async run<T>(op: () => T): Promise<T> {
    for (let child = this.#child; child; child = this.#child) {
      if (current.getStore()?.isWithin(child.scope)) throw transactionMisuse(WAITS_FOREVER);
      await child.done;
    }
    if (this.#ended) throw transactionEnded();
    return op();
  }

  /**
   * Runs fn in a child scope once this one is free. `begin` opens the transaction (it is
   * then ours to finish); `end` commits it when fn resolves or rolls it back (ok false).
   */
  async nest<T>(begin: () => void, fn: (scope: Scope) => Promise<T>, end: (ok: boolean) => void): Promise<T> {
    const scope = new Scope(this);
    let release = () => {};
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    await this.run(() => {
      begin();
      this.#child = { scope, done };
    });
    try {
      let result: T;
      try {
        result = await current.run(scope, () => fn(scope));
      } catch (err) {
        end(false);
        throw err;
      }
      end(true);
      return result;
    } finally {
      scope.#ended = true;
      this.#child = undefined;
      release();
    }
  }

  isWithin(other: Scope): boolean {
    for (let scope: Scope | undefined = this; scope; scope = scope.parent) {
      if (scope === other) return true;
    }
    return false;
  }
}
