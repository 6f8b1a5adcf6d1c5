import { IntegrityError } from '../errors/index.ts';

/**
 * Tree blobs: one per directory, JSON, entries sorted by name bytes so identical
 * directories give identical blobs and deduplicate. Names are raw bytes (Linux names
 * need not be UTF-8): stored as `name` when valid UTF-8, else base64 in `name64`.
 * Times, inodes and devices are decimal strings so nanoseconds and 64-bit values survive.
 */

export const NODE_TYPES = ['file', 'dir', 'symlink', 'fifo', 'socket', 'chardev', 'blockdev'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export interface Xattr {
  name: string;
  value: Buffer;
}

export interface TreeNode {
  name: Buffer;
  type: NodeType;
  /** Permission and special bits (07777); the type is in `type`. */
  mode: number;
  uid: number;
  gid: number;
  user?: string;
  group?: string;
  size: number;
  mtime: string;
  ctime: string;
  inode: string;
  dev: string;
  links: number;
  rdev?: number;
  /** Ids of the data blobs of a file, in order. */
  content?: Buffer[];
  /** Id of the tree blob of a directory. */
  subtree?: Buffer;
  /** Target of a symlink, raw bytes. */
  target?: Buffer;
  xattrs?: Xattr[];
}

export function compareNames(a: TreeNode, b: TreeNode): number {
  return Buffer.compare(a.name, b.name);
}

function bytesField(obj: Record<string, unknown>, key: string, value: Buffer): void {
  const text = value.toString('utf8');
  if (Buffer.from(text, 'utf8').equals(value)) obj[key] = text;
  else obj[`${key}64`] = value.toString('base64');
}

function encodeNode(node: TreeNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  bytesField(out, 'name', node.name);
  Object.assign(out, {
    type: node.type,
    mode: node.mode,
    uid: node.uid,
    gid: node.gid,
    user: node.user,
    group: node.group,
    size: node.size,
    mtime: node.mtime,
    ctime: node.ctime,
    inode: node.inode,
    dev: node.dev,
    links: node.links,
    rdev: node.rdev,
  });
  if (node.content) out.content = node.content.map((id) => id.toString('hex'));
  if (node.subtree) out.subtree = node.subtree.toString('hex');
  if (node.target) bytesField(out, 'target', node.target);
  if (node.xattrs?.length)
    out.xattrs = node.xattrs.map((x) => ({ name: x.name, value: x.value.toString('base64') }));
  return out;
}

/** Nodes must already be sorted (compareNames) and unique. */
export function encodeTree(nodes: readonly TreeNode[]): Buffer {
  return Buffer.from(JSON.stringify({ nodes: nodes.map(encodeNode) }));
}

const ID_HEX = /^[0-9a-f]{64}$/;
const DECIMAL = /^-?\d{1,20}$/;

class TreeChecker {
  readonly where: string;
  constructor(where: string) {
    this.where = where;
  }

  fail(why: string): IntegrityError {
    return new IntegrityError('CORRUPT_TREE', `${this.where}: ${why}`, { object: this.where });
  }

  bytes(raw: Record<string, unknown>, key: string, required: boolean): Buffer | undefined {
    const text = raw[key];
    const b64 = raw[`${key}64`];
    if (typeof text === 'string') return Buffer.from(text, 'utf8');
    if (typeof b64 === 'string') return Buffer.from(b64, 'base64');
    if (required) throw this.fail(`an entry has no ${key}`);
    return undefined;
  }

  int(raw: Record<string, unknown>, key: string, max = Number.MAX_SAFE_INTEGER): number {
    const value = raw[key];
    if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > max) {
      throw this.fail(`an entry has an invalid ${key}`);
    }
    return value as number;
  }

  decimal(raw: Record<string, unknown>, key: string): string {
    const value = raw[key];
    if (typeof value !== 'string' || !DECIMAL.test(value)) throw this.fail(`an entry has an invalid ${key}`);
    return value;
  }

  id(value: unknown): Buffer {
    if (typeof value !== 'string' || !ID_HEX.test(value)) throw this.fail('an entry has an invalid blob id');
    return Buffer.from(value, 'hex');
  }
}

/** A name that could escape the restore target, or is not a single path component. */
export function hostileNameReason(name: Buffer): string | undefined {
  if (name.length === 0) return 'an empty name';
  if (name.length > 4096) return 'a name longer than 4096 bytes';
  if (name.equals(DOT) || name.equals(DOTDOT)) return `the name "${name.toString()}"`;
  if (name.includes(0x2f)) return 'a name containing "/"';
  if (name.includes(0)) return 'a name containing a NUL byte';
  return undefined;
}
const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');

function decodeNode(raw: Record<string, unknown>, check: TreeChecker): TreeNode {
  const name = check.bytes(raw, 'name', true)!;
  const hostile = hostileNameReason(name);
  if (hostile) throw check.fail(`refusing an entry with ${hostile}`);
  const type = raw.type as NodeType;
  if (!NODE_TYPES.includes(type)) throw check.fail('an entry has an unknown type');
  const node: TreeNode = {
    name,
    type,
    mode: check.int(raw, 'mode', 0o7777),
    uid: check.int(raw, 'uid', 2 ** 32),
    gid: check.int(raw, 'gid', 2 ** 32),
    size: check.int(raw, 'size'),
    mtime: check.decimal(raw, 'mtime'),
    ctime: check.decimal(raw, 'ctime'),
    inode: check.decimal(raw, 'inode'),
    dev: check.decimal(raw, 'dev'),
    links: check.int(raw, 'links'),
  };
  if (typeof raw.user === 'string') node.user = raw.user;
  if (typeof raw.group === 'string') node.group = raw.group;
  if (raw.rdev !== undefined) node.rdev = check.int(raw, 'rdev');
  decodeTypeFields(raw, node, check);
  return node;
}

function decodeTypeFields(raw: Record<string, unknown>, node: TreeNode, check: TreeChecker): void {
  if (node.type === 'file') {
    if (!Array.isArray(raw.content)) throw check.fail('a file entry has no content list');
    node.content = raw.content.map((id) => check.id(id));
  } else if (node.type === 'dir') {
    node.subtree = check.id(raw.subtree);
  } else if (node.type === 'symlink') {
    node.target = check.bytes(raw, 'target', true);
    if (node.target!.includes(0)) throw check.fail('a symlink target contains a NUL byte');
  }
  if (Array.isArray(raw.xattrs)) {
    node.xattrs = raw.xattrs.map((x: Record<string, unknown>) => {
      if (typeof x?.name !== 'string' || typeof x.value !== 'string')
        throw check.fail('an entry has an invalid xattr');
      return { name: x.name, value: Buffer.from(x.value, 'base64') };
    });
  }
}

/** Parses an untrusted tree blob; refuses hostile names, duplicates and bad fields. */
export function decodeTree(data: Buffer, where: string): TreeNode[] {
  const check = new TreeChecker(where);
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    throw check.fail('not valid JSON');
  }
  const rawNodes = (parsed as { nodes?: unknown })?.nodes;
  if (!Array.isArray(rawNodes)) throw check.fail('no node list');
  const nodes = rawNodes.map((raw) => {
    if (typeof raw !== 'object' || raw === null) throw check.fail('an entry is not an object');
    return decodeNode(raw as Record<string, unknown>, check);
  });
  for (let i = 1; i < nodes.length; i++) {
    if (compareNames(nodes[i - 1]!, nodes[i]!) >= 0) throw check.fail('entries are duplicated or not sorted');
  }
  return nodes;
}

/** Printable form of a raw name: invalid UTF-8 bytes become \xNN. */
export function printableName(name: Buffer): string {
  const text = name.toString('utf8');
  // Control characters are escaped too: a name must not rewrite the terminal or fake a line.
  if (Buffer.from(text, 'utf8').equals(name)) {
    return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  }
  let out = '';
  for (const byte of name)
    out +=
      byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  return out;
}
