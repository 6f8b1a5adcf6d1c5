/**
 * Whether a process with this id exists on this machine. A process of another user
 * answers EPERM: it exists. An id reused by an unrelated process also answers true,
 * which errs on the safe side for callers cleaning up after the dead.
 */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
