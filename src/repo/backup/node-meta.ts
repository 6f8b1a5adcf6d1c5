import type { EntryStat } from '../fsmeta/entries.ts';
import { groupName, userName } from '../fsmeta/owners.ts';
import type { NodeType, TreeNode } from '../tree.ts';

export function nodeType(st: EntryStat): NodeType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'chardev';
  return 'blockdev';
}

/** Everything lstat says about an entry, in tree form; contents are filled in by the caller. */
export function nodeFromStat(name: Buffer, st: EntryStat): TreeNode {
  const uid = Number(st.uid);
  const gid = Number(st.gid);
  const type = nodeType(st);
  const node: TreeNode = {
    name,
    type,
    mode: Number(st.mode) & 0o7777,
    uid,
    gid,
    size: type === 'file' ? Number(st.size) : 0,
    mtime: String(st.mtimeNs),
    ctime: String(st.ctimeNs),
    inode: String(st.ino),
    dev: String(st.dev),
    links: Number(st.nlink),
  };
  const user = userName(uid);
  const group = groupName(gid);
  if (user !== undefined) node.user = user;
  if (group !== undefined) node.group = group;
  if (type === 'chardev' || type === 'blockdev') node.rdev = Number(st.rdev);
  return node;
}

/** The parent snapshot's file is reused only when nothing lstat can see has changed. */
export function unchangedSince(parent: TreeNode | undefined, st: EntryStat): boolean {
  return (
    parent !== undefined &&
    parent.type === 'file' &&
    parent.content !== undefined &&
    parent.size === Number(st.size) &&
    parent.mtime === String(st.mtimeNs) &&
    parent.ctime === String(st.ctimeNs) &&
    parent.inode === String(st.ino)
  );
}
