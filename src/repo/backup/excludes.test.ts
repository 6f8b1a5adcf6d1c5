import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadInputError } from '../../errors/index.ts';
import { Excluder, globToRegExp } from './excludes.ts';

function matches(glob: string, yes: string[], no: string[]): void {
  const re = globToRegExp(glob);
  for (const s of yes) assert.ok(re.test(s), `${glob} should match ${JSON.stringify(s)}`);
  for (const s of no) assert.ok(!re.test(s), `${glob} should not match ${JSON.stringify(s)}`);
}

function badPattern(fn: () => unknown): void {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof BadInputError);
    assert.equal(err.code, 'BAD_PATTERN');
    assert.match(err.message, /unclosed "\["/);
    return true;
  });
}

describe('globToRegExp', () => {
  it('"*" matches within one segment only, including empty and dot-names', () => {
    matches(
      '*.log',
      ['x.log', '.log', 'a.b.log', 'line\nbreak.log'],
      ['a/x.log', 'x.log.gz', 'x.lo', 'xlog'],
    );
    matches(
      '/home/*/.cache',
      ['/home/alice/.cache', '/home//.cache'],
      ['/home/a/b/.cache', '/home/alice/.cache/x'],
    );
    matches('*', ['', 'anything', '.hidden'], ['a/b']);
  });

  it('"**" spans segments, and "**/" may match no segment at all', () => {
    matches(
      '/var/**/*.tmp',
      ['/var/c.tmp', '/var/a/c.tmp', '/var/a/b/c.tmp'],
      ['/var/c.tmpx', '/varx/c.tmp', '/x/var/c.tmp'],
    );
    matches('**', ['', 'a', 'a/b/c', '/'], []);
    matches('/a/**', ['/a/', '/a/b', '/a/b/c'], ['/ab', '/b/a/x']);
    matches('**/x', ['x', 'a/x', '/a/b/x'], ['ax', 'a/xy']);
  });

  it('"?" matches exactly one character, never "/"', () => {
    matches('a?c', ['abc', 'a.c', 'a\u00e9c'], ['ac', 'abbc', 'a/c']);
    matches('??', ['ab'], ['a', 'abc', 'a/']);
  });

  it('"[abc]", ranges and "[!a]" negation', () => {
    matches('[abc].txt', ['a.txt', 'c.txt'], ['d.txt', 'ab.txt', '.txt']);
    matches('file[0-9]', ['file0', 'file9'], ['filea', 'file10']);
    matches('[!a]x', ['bx', '.x'], ['ax', 'x']);
    matches('[!abc]', ['d'], ['a', 'c', '']);
    matches('[\\]', ['\\'], ['a']);
  });

  // globToRegExp looks for the closing "]" from i + 2 so that "]" can be the first member
  // (as in POSIX and Go's filepath.Match), but copies it into the RegExp unescaped: "[]a]"
  // becomes /^[]a]$/, where "[]" is JavaScript's empty class, so the pattern matches nothing;
  // "[!]a]" becomes /[^]a]/ where "[^]" matches any character, "/" included.
  it('"]" as the first member of a bracket expression ("[]a]", "[!]a]")', () => {
    matches('[]a]', [']', 'a'], ['b', ']a]']);
    matches('[!]a]', ['b'], [']', 'a', '/', 'ba]']);
  });

  it('regular-expression metacharacters are literal', () => {
    matches('a.b', ['a.b'], ['axb']);
    matches('a+b(c)|d$^{1}', ['a+b(c)|d$^{1}'], ['aab(c)', 'd']);
    matches('back\\slash', ['back\\slash'], ['backslash']);
  });

  it('anchors the whole string', () => {
    matches('log', ['log'], ['logs', 'xlog', 'a/log']);
  });

  it('refuses an unclosed "[" with BAD_PATTERN', () => {
    for (const glob of ['[', 'a[', '[abc', 'x[]', '/var/[a-z/*']) badPattern(() => globToRegExp(glob));
  });
});

describe('Excluder', () => {
  it('a pattern without "/" matches a name at any depth', () => {
    const ex = new Excluder(['*.log', 'node_modules']);
    assert.ok(ex.excludes('/a/b/x.log', 'x.log'));
    assert.ok(ex.excludes('/x.log', 'x.log'));
    assert.ok(ex.excludes('/srv/app/node_modules', 'node_modules'));
    assert.ok(ex.excludes('/node_modules', 'node_modules'));
    assert.ok(!ex.excludes('/a/b/x.log.gz', 'x.log.gz'));
    assert.ok(!ex.excludes('/srv/app/node_modules2', 'node_modules2'));
    // Name patterns look at the name only, not at the folders above it.
    assert.ok(!ex.excludes('/srv/node_modules/pkg', 'pkg'));
  });

  it('a pattern with "/" matches the absolute path from the start', () => {
    const ex = new Excluder(['/var/**/*.tmp', '/tmp']);
    assert.ok(ex.excludes('/var/a/b/c.tmp', 'c.tmp'));
    assert.ok(ex.excludes('/var/c.tmp', 'c.tmp'));
    assert.ok(ex.excludes('/tmp', 'tmp'));
    assert.ok(!ex.excludes('/srv/var/c.tmp', 'c.tmp'));
    assert.ok(!ex.excludes('/home/tmp', 'tmp'), 'a path pattern is not matched against the name');
    assert.ok(!ex.excludes('/tmpfoo', 'tmpfoo'));
  });

  it('ignores comments, blank lines and surrounding whitespace', () => {
    const none = new Excluder(['', '   ', '\t', '# *.log', '  # /etc']);
    assert.ok(none.empty);
    assert.ok(!none.excludes('/a/x.log', 'x.log'));
    assert.ok(!none.excludes('/etc', 'etc'));
    assert.ok(new Excluder([]).empty);

    const some = new Excluder(['  *.log  ', '# comment', '\t/cache\t']);
    assert.ok(!some.empty);
    assert.ok(some.excludes('/a/x.log', 'x.log'));
    assert.ok(some.excludes('/cache', 'cache'));
    // "#" inside a pattern is not a comment.
    assert.ok(new Excluder(['a#b']).excludes('/a#b', 'a#b'));
  });

  it('a trailing "/" on an absolute pattern is ignored', () => {
    const ex = new Excluder(['/var/cache/', '/srv//']);
    assert.ok(ex.excludes('/var/cache', 'cache'));
    assert.ok(ex.excludes('/srv', 'srv'));
  });

  // The constructor strips trailing slashes from the pattern, but decides name-versus-path
  // on the unstripped text: "node_modules/" becomes the path pattern ^node_modules$, which
  // no absolute path can match, so the exclude is silently a no-op.
  it('"node_modules/" (trailing slash) excludes node_modules folders like "node_modules"', () => {
    const ex = new Excluder(['node_modules/']);
    assert.ok(ex.excludes('/srv/app/node_modules', 'node_modules'));
  });

  it('refuses an unclosed "[" with BAD_PATTERN when constructed', () => {
    badPattern(() => new Excluder(['*.log', '[abc']));
    badPattern(() => new Excluder(['/var/[x']));
  });
});
