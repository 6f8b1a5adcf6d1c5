import { readFileSync } from 'node:fs';

/**
 * uid/gid → name, read from /etc/passwd and /etc/group once. Names are recorded next to
 * the numbers so a restore on another machine can be mapped by name later.
 */
function readIdFile(path: string): Map<number, string> {
  const names = new Map<number, string>();
  try {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && id && /^\d+$/.test(id) && !names.has(Number(id))) names.set(Number(id), name);
    }
  } catch {
    // No such file (containers, other systems): numbers alone are still faithful.
  }
  return names;
}

let users: Map<number, string> | undefined;
let groups: Map<number, string> | undefined;

export function userName(uid: number): string | undefined {
  users ??= readIdFile('/etc/passwd');
  return users.get(uid);
}

export function groupName(gid: number): string | undefined {
  groups ??= readIdFile('/etc/group');
  return groups.get(gid);
}
