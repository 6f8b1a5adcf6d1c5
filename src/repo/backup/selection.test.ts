import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { buildSelection, joinPath, type SelectionNode } from './selection.ts';

/** "path*" for selected nodes, depth-first in name order, so a whole selection compares as one list. */
function flatten(node: SelectionNode, out: string[] = []): string[] {
  for (const name of [...node.children.keys()].sort()) {
    const child = node.children.get(name)!;
    assert.equal(child.name.toString(), name);
    out.push(`${child.path.toString()}${child.selected ? '*' : ''}`);
    flatten(child, out);
  }
  return out;
}

describe('buildSelection', () => {
  it('builds the component tree from "/" with partial parents', () => {
    const { root, absolute } = buildSelection(['/srv/www', '/etc']);
    assert.deepEqual(absolute, ['/etc', '/srv/www']);
    assert.equal(root.selected, false);
    assert.equal(root.path.toString(), '/');
    assert.equal(root.name.length, 0);
    assert.deepEqual(flatten(root), ['/etc*', '/srv', '/srv/www*']);
    const srv = root.children.get('srv')!;
    assert.equal(srv.selected, false);
    assert.deepEqual(srv.name, Buffer.from('srv'));
    assert.deepEqual(srv.children.get('www')!.path, Buffer.from('/srv/www'));
  });

  it('keeps overlapping paths: both the folder and a path inside it are marked', () => {
    const { root, absolute } = buildSelection(['/home/alice/docs', '/home', '/home/alice']);
    assert.deepEqual(absolute, ['/home', '/home/alice', '/home/alice/docs']);
    assert.deepEqual(flatten(root), ['/home*', '/home/alice*', '/home/alice/docs*']);
  });

  it('resolves relative paths against the working directory and normalizes', () => {
    const { absolute, root } = buildSelection(['some/rel/../dir', './x/']);
    assert.deepEqual(absolute, [resolve('some/dir'), resolve('x')].sort());
    assert.ok(absolute.every((p) => p.startsWith('/')));
    assert.ok(flatten(root).includes(`${resolve('some/dir')}*`));
  });

  it('removes duplicates, including different spellings of one path', () => {
    const { absolute, root } = buildSelection(['/etc', '/etc/', '/etc//', '/usr/../etc', '/etc']);
    assert.deepEqual(absolute, ['/etc']);
    assert.deepEqual(flatten(root), ['/etc*']);
  });

  it('selects the root itself for "/"', () => {
    const { root, absolute } = buildSelection(['/']);
    assert.deepEqual(absolute, ['/']);
    assert.equal(root.selected, true);
    assert.equal(root.children.size, 0);

    const both = buildSelection(['/var', '/']);
    assert.deepEqual(both.absolute, ['/', '/var']);
    assert.equal(both.root.selected, true);
    assert.deepEqual(flatten(both.root), ['/var*']);
  });

  it('sorts the absolute paths', () => {
    assert.deepEqual(buildSelection(['/b', '/a/z', '/a']).absolute, ['/a', '/a/z', '/b']);
  });

  it('keeps names with spaces and non-ASCII characters', () => {
    const { root } = buildSelection(['/srv/my files/r\u00e9sum\u00e9']);
    const leaf = root.children.get('srv')!.children.get('my files')!.children.get('r\u00e9sum\u00e9')!;
    assert.deepEqual(leaf.path, Buffer.from('/srv/my files/r\u00e9sum\u00e9'));
    assert.equal(leaf.selected, true);
  });
});

describe('joinPath', () => {
  it('joins with one "/" and does not double the root slash', () => {
    assert.deepEqual(joinPath(Buffer.from('/'), Buffer.from('etc')), Buffer.from('/etc'));
    assert.deepEqual(joinPath(Buffer.from('/etc'), Buffer.from('passwd')), Buffer.from('/etc/passwd'));
    assert.deepEqual(joinPath(Buffer.from('/a/b'), Buffer.from('c d')), Buffer.from('/a/b/c d'));
  });

  it('works on raw non-UTF-8 bytes', () => {
    const name = Buffer.from([0xff, 0xfe]);
    assert.deepEqual(joinPath(Buffer.from('/x'), name), Buffer.from([0x2f, 0x78, 0x2f, 0xff, 0xfe]));
    assert.deepEqual(joinPath(Buffer.from('/'), name), Buffer.from([0x2f, 0xff, 0xfe]));
  });

  it('does not mistake a one-byte folder that is not "/" for the root', () => {
    assert.deepEqual(joinPath(Buffer.from('a'), Buffer.from('b')), Buffer.from('a/b'));
  });
});
