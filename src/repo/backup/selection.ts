import { resolve } from 'node:path';

/**
 * The chosen source paths as a tree of path components from "/". Snapshots keep full
 * absolute paths (as restic does), so a restore can put files back where they were.
 * Components above a chosen path are "partial": only the chosen child is saved.
 */
export interface SelectionNode {
  name: Buffer;
  path: Buffer;
  /** Chosen by the user: the whole subtree is saved. */
  selected: boolean;
  children: Map<string, SelectionNode>;
}

export function buildSelection(paths: readonly string[]): { root: SelectionNode; absolute: string[] } {
  const absolute = [...new Set(paths.map((p) => resolve(p)))].sort();
  const root: SelectionNode = {
    name: Buffer.alloc(0),
    path: Buffer.from('/'),
    selected: false,
    children: new Map(),
  };
  for (const path of absolute) {
    if (path === '/') {
      root.selected = true;
      continue;
    }
    let node = root;
    for (const part of path.split('/').filter(Boolean)) {
      let child = node.children.get(part);
      if (!child) {
        const childPath = node.path.length === 1 ? `/${part}` : `${node.path.toString()}/${part}`;
        child = {
          name: Buffer.from(part),
          path: Buffer.from(childPath),
          selected: false,
          children: new Map(),
        };
        node.children.set(part, child);
      }
      node = child;
    }
    node.selected = true;
  }
  return { root, absolute };
}

export function joinPath(dir: Buffer, name: Buffer): Buffer {
  if (dir.length === 1 && dir[0] === 0x2f) return Buffer.concat([dir, name]);
  return Buffer.concat([dir, SLASH, name]);
}
const SLASH = Buffer.from('/');
