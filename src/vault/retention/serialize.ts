// Work on one vault's recovery points runs one piece at a time in this process, so an
// undelete never interleaves with the retention run that is deleting the same point.

const tails = new Map<string, Promise<unknown>>();

/** Runs fn after every earlier call with the same key has settled. */
export async function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const before = tails.get(key) ?? Promise.resolve();
  const run = before.catch(() => {}).then(fn);
  const tail = run.catch(() => {});
  tails.set(key, tail);
  try {
    return await run;
  } finally {
    if (tails.get(key) === tail) tails.delete(key);
  }
}
