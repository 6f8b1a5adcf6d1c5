// Fuzzes decodeTree (docs/design.md §6) on plaintext: tree blobs are authenticated
// first, but a compromised key holder could write any tree, and a restore must never be
// steered outside its target by one. Arbitrary bytes, arbitrary JSON, node-shaped
// objects with arbitrary fields, and mutations of valid trees.
// Budget: RUNS per property (300); OFFSITE_FUZZ_RUNS=N runs N instead.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeTree, encodeTree, hostileNameReason, type TreeNode } from '../../src/repo/tree.ts';
import {
  anyBytes,
  anyJson,
  fc,
  jsonishBytes,
  mutated,
  objectWithSome,
  params,
  refusesCleanly,
  testTimeout,
} from './harness.ts';

const NODE_KEYS = [
  'name',
  'name64',
  'type',
  'mode',
  'uid',
  'gid',
  'user',
  'group',
  'size',
  'mtime',
  'ctime',
  'inode',
  'dev',
  'links',
  'rdev',
  'content',
  'subtree',
  'target',
  'target64',
  'xattrs',
];

const hexId = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((a) => Buffer.from(a));
const nodeName = fc
  .uint8Array({ minLength: 1, maxLength: 40 })
  .map((a) => Buffer.from(a))
  .filter((n) => hostileNameReason(n) === undefined);

const validNode: fc.Arbitrary<TreeNode> = fc
  .record({
    name: nodeName,
    kind: fc.constantFrom('file', 'dir', 'symlink', 'fifo'),
    mode: fc.nat({ max: 0o7777 }),
    size: fc.nat(),
    content: fc.array(hexId, { maxLength: 3 }),
    subtree: hexId,
    target: fc.uint8Array({ minLength: 1, maxLength: 30 }).map((a) => Buffer.from(a).map((b) => b || 1)),
    xattrs: fc.array(fc.record({ name: fc.string(), value: fc.uint8Array({ maxLength: 20 }) }), {
      maxLength: 2,
    }),
  })
  .map((r) => {
    const node: TreeNode = {
      name: r.name,
      type: r.kind as TreeNode['type'],
      mode: r.mode,
      uid: 0,
      gid: 0,
      size: r.size,
      mtime: '1',
      ctime: '2',
      inode: '3',
      dev: '4',
      links: 1,
    };
    if (r.kind === 'file') node.content = r.content;
    if (r.kind === 'dir') node.subtree = r.subtree;
    if (r.kind === 'symlink') node.target = Buffer.from(r.target);
    if (r.xattrs.length) node.xattrs = r.xattrs.map((x) => ({ name: x.name, value: Buffer.from(x.value) }));
    return node;
  });

const validTree = fc
  .uniqueArray(validNode, { maxLength: 6, selector: (n) => n.name.toString('hex') })
  .map((nodes) => encodeTree([...nodes].sort((a, b) => Buffer.compare(a.name, b.name))));

/** Nodes whose fields are arbitrary JSON (and sometimes a plausible node with one field replaced). */
const oddNodes = fc
  .array(fc.oneof(objectWithSome(NODE_KEYS), anyJson), { maxLength: 4 })
  .map((nodes) => Buffer.from(JSON.stringify({ nodes })));

function checkDecoded(nodes: TreeNode[] | undefined): void {
  for (const node of nodes ?? []) {
    assert.equal(hostileNameReason(node.name), undefined, 'a decoded name is never hostile');
    if (node.target) assert.ok(!node.target.includes(0), 'a decoded symlink target has no NUL');
  }
}

describe('fuzz: trees', () => {
  it('decodeTree returns safe nodes or CORRUPT_TREE for any bytes', { timeout: testTimeout() }, () => {
    fc.assert(
      fc.property(fc.oneof(anyBytes, jsonishBytes, oddNodes), (bytes) => {
        checkDecoded(
          refusesCleanly('decodeTree', bytes.length, () => decodeTree(bytes, 'tree x'), ['CORRUPT_TREE']),
        );
      }),
      params(),
    );
  });

  it('decodeTree round-trips valid trees and refuses their mutations cleanly', {
    timeout: testTimeout(),
  }, () => {
    fc.assert(
      fc.property(validTree, (bytes) => {
        assert.deepEqual(encodeTree(decodeTree(bytes, 'tree x')), bytes);
      }),
      params(100),
    );
    fc.assert(
      fc.property(mutated(validTree), (bytes) => {
        checkDecoded(
          refusesCleanly('decodeTree', bytes.length, () => decodeTree(bytes, 'tree x'), ['CORRUPT_TREE']),
        );
      }),
      params(),
    );
  });

  it('decodeTree with one field of a valid node replaced by arbitrary JSON', {
    timeout: testTimeout(),
  }, () => {
    const replaced = fc.tuple(validNode, fc.constantFrom(...NODE_KEYS), anyJson).map(([node, key, value]) => {
      const json = JSON.parse(encodeTree([node]).toString()) as { nodes: Record<string, unknown>[] };
      json.nodes[0]![key] = value;
      return Buffer.from(JSON.stringify(json));
    });
    fc.assert(
      fc.property(replaced, (bytes) => {
        checkDecoded(
          refusesCleanly('decodeTree', bytes.length, () => decodeTree(bytes, 'tree x'), ['CORRUPT_TREE']),
        );
      }),
      params(),
    );
  });
});
