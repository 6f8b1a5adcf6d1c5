import { lstat, readdir } from 'node:fs/promises';
import { Excluder } from './excludes.ts';
import { joinPath } from './selection.ts';

export interface ScanTotals {
  files: number;
  bytes: number;
  done: boolean;
}

/**
 * Counts files and bytes under the paths, for a progress bar's ETA. Runs beside the
 * backup (only on a terminal), so it never delays it; errors are ignored here because
 * the backup itself reports them.
 */
export async function scanTotals(
  paths: readonly string[],
  excludes: readonly string[],
  totals: ScanTotals,
): Promise<void> {
  const excluder = new Excluder(excludes);
  const visit = async (path: Buffer): Promise<void> => {
    const st = await lstat(path).catch(() => null);
    if (!st) return;
    if (st.isFile()) {
      totals.files++;
      totals.bytes += st.size;
    } else if (st.isDirectory()) {
      const names = await readdir(path, { encoding: 'buffer' }).catch(() => []);
      for (const name of names) {
        const child = joinPath(path, name);
        if (!excluder.excludes(child.toString(), name.toString())) await visit(child);
      }
    }
  };
  for (const path of paths) await visit(Buffer.from(path));
  totals.done = true;
}
