import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { IntegrityError } from '../errors/index.ts';
import {
  compareNames,
  decodeTree,
  encodeTree,
  hostileNameReason,
  printableName,
  type TreeNode,
} from './tree.ts';

const WHERE = 'tree 0123abcd';
const id = () => randomBytes(32);

function base(name: string | Buffer, type: TreeNode['type']): TreeNode {
  return {
    name: typeof name === 'string' ? Buffer.from(name) : name,
    type,
    mode: 0o644,
    uid: 1000,
    gid: 1000,
    size: 0,
    mtime: '1700000000123456789',
    ctime: '1700000001000000000',
    inode: '18446744073709551615',
    dev: '2049',
    links: 1,
  };
}

/** One node of every type, sorted by name bytes. */
function everyType(): TreeNode[] {
  const nodes: TreeNode[] = [
    {
      ...base('a-file', 'file'),
      size: 3_000_000,
      content: [id(), id(), id()],
      user: 'alice',
      group: 'staff',
    },
    { ...base('b-dir', 'dir'), mode: 0o1777, subtree: id() },
    { ...base('c-link', 'symlink'), mode: 0o777, target: Buffer.from('../somewhere/else') },
    { ...base('d-fifo', 'fifo'), mode: 0o600 },
    { ...base('e-socket', 'socket') },
    { ...base('f-tty', 'chardev'), rdev: 0x0501 },
    { ...base('g-disk', 'blockdev'), rdev: 0x0800 },
    { ...base('h-empty', 'file'), content: [] },
    { ...base('i-setuid', 'file'), mode: 0o7777, uid: 0, gid: 0, content: [id()] },
  ];
  return nodes.sort(compareNames);
}

function corruptTree(data: Buffer | string, why?: RegExp): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  assert.throws(
    () => decodeTree(bytes, WHERE),
    (err) => {
      assert.ok(err instanceof IntegrityError, `expected IntegrityError, got ${String(err)}`);
      assert.equal(err.code, 'CORRUPT_TREE');
      assert.equal(err.object, WHERE);
      if (why) assert.match(err.message, why);
      return true;
    },
  );
}

/** A tree with one node given as raw JSON fields (so the encoder cannot tidy it up). */
function rawTree(fields: Record<string, unknown>): string {
  const node: Record<string, unknown> = {
    name: 'x',
    type: 'file',
    mode: 420,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: '1',
    ctime: '1',
    inode: '1',
    dev: '1',
    links: 1,
    content: [],
    ...fields,
  };
  for (const [k, v] of Object.entries(node)) if (v === undefined) delete node[k];
  return JSON.stringify({ nodes: [node] });
}

describe('encodeTree / decodeTree', () => {
  it('round-trips every node type', () => {
    const nodes = everyType();
    assert.deepEqual(decodeTree(encodeTree(nodes), WHERE), nodes);
  });

  it('round-trips an empty directory', () => {
    assert.deepEqual(decodeTree(encodeTree([]), WHERE), []);
    assert.equal(encodeTree([]).toString(), '{"nodes":[]}');
  });

  it('is deterministic: equal trees give equal bytes (so they deduplicate)', () => {
    const nodes = everyType();
    assert.deepEqual(encodeTree(nodes), encodeTree(decodeTree(encodeTree(nodes), WHERE)));
  });

  it('stores non-UTF-8 names as name64 and non-UTF-8 targets as target64, and round-trips them', () => {
    const name = Buffer.from([0x66, 0xff, 0xfe, 0x80, 0x6f]);
    const target = Buffer.from([0x2e, 0x2e, 0x2f, 0xc3, 0x28, 0xa0]);
    const nodes: TreeNode[] = [{ ...base(name, 'symlink'), target }];
    const json = JSON.parse(encodeTree(nodes).toString());
    assert.equal(json.nodes[0].name, undefined);
    assert.equal(json.nodes[0].name64, name.toString('base64'));
    assert.equal(json.nodes[0].target, undefined);
    assert.equal(json.nodes[0].target64, target.toString('base64'));
    assert.deepEqual(decodeTree(encodeTree(nodes), WHERE), nodes);
  });

  it('stores UTF-8 names as text, including multi-byte characters', () => {
    const nodes = [{ ...base('r\u00e9sum\u00e9 \u{1f600}.txt', 'file'), content: [] }];
    const json = JSON.parse(encodeTree(nodes).toString());
    assert.equal(json.nodes[0].name, 'r\u00e9sum\u00e9 \u{1f600}.txt');
    assert.deepEqual(decodeTree(encodeTree(nodes), WHERE), nodes);
  });

  it('round-trips xattrs with binary and empty values', () => {
    const nodes: TreeNode[] = [
      {
        ...base('f', 'file'),
        content: [],
        xattrs: [
          { name: 'security.capability', value: Buffer.from([0, 0, 0, 2, 0xff, 0x20, 0, 0]) },
          { name: 'user.empty', value: Buffer.alloc(0) },
          { name: 'user.random', value: randomBytes(300) },
        ],
      },
    ];
    assert.deepEqual(decodeTree(encodeTree(nodes), WHERE), nodes);
  });

  it('accepts names up to 4096 bytes and names sorted by bytes, not by UTF-16', () => {
    const long = [{ ...base('n'.repeat(4096), 'fifo') }];
    assert.deepEqual(decodeTree(encodeTree(long), WHERE), long);
    // U+FF61 is EF BD A1 and U+1F600 is F0 9F 98 80: byte order puts U+FF61 first,
    // UTF-16 order (D83D… < FF61) the other way round.
    const nodes = [base('\uff61', 'fifo'), base('\u{1f600}', 'fifo')];
    assert.ok(compareNames(nodes[0]!, nodes[1]!) < 0);
    assert.deepEqual(decodeTree(encodeTree(nodes), WHERE), nodes);
    corruptTree(encodeTree([...nodes].reverse()), /sorted/);
  });

  it('accepts negative times (before 1970) and the extreme uid/gid', () => {
    const nodes = [{ ...base('old', 'fifo'), mtime: '-1000000000', uid: 2 ** 32 - 1, gid: 65534 }];
    assert.deepEqual(decodeTree(encodeTree(nodes), WHERE), nodes);
  });
});

describe('decodeTree refuses hostile names', () => {
  const hostile: [string, Buffer][] = [
    ['empty', Buffer.from('')],
    ['"."', Buffer.from('.')],
    ['".."', Buffer.from('..')],
    ['"a/b"', Buffer.from('a/b')],
    ['"/"', Buffer.from('/')],
    ['"/etc"', Buffer.from('/etc')],
    ['"../x"', Buffer.from('../x')],
    ['"a\\0b"', Buffer.from('a\0b')],
    ['4097 bytes', Buffer.alloc(4097, 0x61)],
    ['non-UTF-8 with "/"', Buffer.from([0xff, 0x2f, 0x61])],
    ['non-UTF-8 with NUL', Buffer.from([0xff, 0x00])],
  ];
  for (const [what, name] of hostile) {
    it(`refuses ${what} as name and as name64`, () => {
      assert.ok(hostileNameReason(name));
      corruptTree(rawTree({ name: name.toString('utf8') }), /refusing/);
      corruptTree(rawTree({ name: undefined, name64: name.toString('base64') }), /refusing/);
      // Through the encoder too (which does not validate).
      corruptTree(encodeTree([{ ...base(name, 'file'), content: [] }]), /refusing/);
    });
  }

  it('refuses base64 of ".." and of "x/y" in name64', () => {
    assert.equal(Buffer.from('..').toString('base64'), 'Li4=');
    corruptTree(rawTree({ name: undefined, name64: 'Li4=' }), /"\.\."/);
    corruptTree(rawTree({ name: undefined, name64: Buffer.from('x/y').toString('base64') }), /"\/"/);
  });

  it('refuses ".." hidden in a lenient base64 spelling (no padding, stray characters)', () => {
    for (const name64 of ['Li4', 'L i 4 =', 'Li4=\n', 'Li4=Li4=']) {
      const decoded = Buffer.from(name64, 'base64');
      if (hostileNameReason(decoded)) corruptTree(rawTree({ name: undefined, name64 }), /refusing/);
      else
        assert.deepEqual(
          decodeTree(Buffer.from(rawTree({ name: undefined, name64 })), WHERE)[0]!.name,
          decoded,
        );
    }
  });

  it('accepts names that merely look odd: "...", ".x", "a\\\\b", " ", newline', () => {
    for (const name of ['...', '.x', '..x', 'a\\b', ' ', 'a\nb']) {
      assert.equal(hostileNameReason(Buffer.from(name)), undefined);
      assert.deepEqual(decodeTree(Buffer.from(rawTree({ name })), WHERE)[0]!.name, Buffer.from(name));
    }
  });

  it('refuses an entry without any name', () => {
    corruptTree(rawTree({ name: undefined }), /no name/);
    corruptTree(rawTree({ name: 42 }), /no name/);
  });

  it('refuses duplicate names and unsorted names', () => {
    const a = { ...base('a', 'fifo') };
    const b = { ...base('b', 'fifo') };
    corruptTree(encodeTree([a, a]), /duplicated/);
    corruptTree(encodeTree([b, a]), /sorted/);
    corruptTree(encodeTree([a, b, a]), /duplicated or not sorted/);
    // A name and a name64 spelling the same bytes are duplicates too.
    const twins = JSON.stringify({
      nodes: [
        JSON.parse(rawTree({ name: 'a' })).nodes[0],
        JSON.parse(rawTree({ name: undefined, name64: 'YQ==' })).nodes[0],
      ],
    });
    corruptTree(twins, /duplicated/);
  });
});

describe('decodeTree refuses malformed fields', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['a content id that is not hex', { content: ['z'.repeat(64)] }, /blob id/],
    ['a content id in upper case', { content: ['AB'.repeat(32)] }, /blob id/],
    ['a content id of 63 digits', { content: ['a'.repeat(63)] }, /blob id/],
    ['a content id of 65 digits', { content: ['a'.repeat(65)] }, /blob id/],
    ['a content id that is a number', { content: [1] }, /blob id/],
    ['a file without content list', { content: undefined }, /content/],
    ['a file whose content is a string', { content: 'a'.repeat(64) }, /content/],
    ['a dir without subtree', { type: 'dir', content: undefined }, /blob id/],
    ['a dir with a bad subtree', { type: 'dir', subtree: 'a'.repeat(10) }, /blob id/],
    ['mode 0o10000', { mode: 0o10000 }, /mode/],
    ['mode -1', { mode: -1 }, /mode/],
    ['mode as a string', { mode: '420' }, /mode/],
    ['mode 1.5', { mode: 1.5 }, /mode/],
    ['negative size', { size: -1 }, /size/],
    ['fractional size', { size: 1.5 }, /size/],
    ['size beyond 2^53', { size: 2 ** 53 }, /size/],
    ['size as a string', { size: '10' }, /size/],
    ['missing size', { size: undefined }, /size/],
    ['uid beyond 2^32', { uid: 2 ** 32 + 1 }, /uid/],
    ['negative gid', { gid: -1 }, /gid/],
    ['negative links', { links: -1 }, /links/],
    ['negative rdev', { rdev: -1 }, /rdev/],
    ['mtime not decimal', { mtime: '12a' }, /mtime/],
    ['mtime with a fraction', { mtime: '1.5' }, /mtime/],
    ['mtime in hex', { mtime: '0x10' }, /mtime/],
    ['mtime as a number', { mtime: 1700000000 }, /mtime/],
    ['mtime empty', { mtime: '' }, /mtime/],
    ['mtime of 21 digits', { mtime: '1'.repeat(21) }, /mtime/],
    ['ctime with spaces', { ctime: ' 1' }, /ctime/],
    ['inode missing', { inode: undefined }, /inode/],
    ['dev as a number', { dev: 2049 }, /dev/],
    ['unknown type', { type: 'door' }, /unknown type/],
    ['type inherited from Object', { type: 'constructor' }, /unknown type/],
    ['missing type', { type: undefined }, /unknown type/],
    ['a symlink target with NUL', { type: 'symlink', target: 'a\0b' }, /NUL/],
    [
      'a symlink target64 with NUL',
      { type: 'symlink', target64: Buffer.from('a\0b').toString('base64') },
      /NUL/,
    ],
    ['a symlink without target', { type: 'symlink' }, /target/],
    ['an xattr without value', { xattrs: [{ name: 'user.x' }] }, /xattr/],
    ['an xattr with a numeric value', { xattrs: [{ name: 'user.x', value: 5 }] }, /xattr/],
    ['an xattr that is null', { xattrs: [null] }, /xattr/],
  ];
  for (const [what, fields, why] of cases) {
    it(`refuses ${what}`, () => corruptTree(rawTree(fields), why));
  }

  it('refuses what is not a tree: non-JSON, no nodes, nodes not a list, entries not objects', () => {
    corruptTree('', /JSON/);
    corruptTree('{"nodes": [', /JSON/);
    corruptTree(Buffer.from([0xff, 0xfe, 0x00]), /JSON/);
    corruptTree('{}', /node list/);
    corruptTree('null', /node list/);
    corruptTree('[]', /node list/);
    corruptTree('"nodes"', /node list/);
    corruptTree('{"nodes": {}}', /node list/);
    corruptTree('{"nodes": "abc"}', /node list/);
    corruptTree('{"nodes": [null]}', /not an object/);
    corruptTree('{"nodes": [5]}', /not an object/);
    corruptTree('{"nodes": ["x"]}', /not an object/);
    corruptTree('{"nodes": [[]]}');
  });

  it('the baseline raw node used above is itself valid', () => {
    assert.equal(decodeTree(Buffer.from(rawTree({})), WHERE).length, 1);
  });
});

describe('printableName', () => {
  it('returns valid UTF-8 names unchanged', () => {
    assert.equal(printableName(Buffer.from('r\u00e9sum\u00e9.txt')), 'r\u00e9sum\u00e9.txt');
    assert.equal(printableName(Buffer.from('plain')), 'plain');
  });

  it('escapes invalid bytes as \\xNN and keeps printable ASCII', () => {
    assert.equal(printableName(Buffer.from([0x61, 0xff, 0x62])), 'a\\xffb');
    assert.equal(printableName(Buffer.from([0x80])), '\\x80');
    assert.equal(printableName(Buffer.from([0xc3, 0x28])), '\\xc3(');
    // Once escaping, control bytes are escaped too.
    assert.equal(printableName(Buffer.from([0xff, 0x0a, 0x1b])), '\\xff\\x0a\\x1b');
  });

  // A file name is chosen by whoever could write on the backed-up machine; printableName
  // feeds `ls`, `diff`, `check` and error lists, so a valid-UTF-8 name with ESC or a
  // newline reaches the terminal raw (escape injection, forged output lines), while the
  // same bytes are escaped when some other byte of the name happens to be invalid UTF-8.
  it('escapes control characters in valid UTF-8 names (newline, ESC, DEL)', () => {
    for (const name of ['evil\nfake line', 'x\x1b[2J', 'del\x7f', 'carriage\rreturn']) {
      const shown = printableName(Buffer.from(name));
      assert.doesNotMatch(shown, /[\x00-\x1f\x7f]/, JSON.stringify(shown));
    }
  });
});
