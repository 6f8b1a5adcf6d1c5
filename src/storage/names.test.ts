import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadInputError } from '../errors/index.ts';
import { HOSTILE_NAMES } from './conformance.ts';
import { isValidObjectName, validateObjectName, validatePrefix } from './names.ts';

/** Asserts BAD_OBJECT_NAME with a message that matches `why`. */
function refuses(fn: () => unknown, why: RegExp): void {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof BadInputError);
    assert.equal(err.code, 'BAD_OBJECT_NAME');
    assert.match(err.message, why);
    assert.ok(err.hint);
    return true;
  });
}

describe('validateObjectName', () => {
  it('returns valid names unchanged', () => {
    for (const name of [
      'config',
      'data/ab/0123abcdef',
      'A-Z_a.z-0/9',
      '.hidden',
      '..x',
      'a/...',
      'x'.repeat(255),
    ]) {
      assert.equal(validateObjectName(name), name);
      assert.ok(isValidObjectName(name));
    }
  });

  it('says why each hostile name is refused, and names it', () => {
    const cases: [string, RegExp][] = [
      ['', /bad object name "": it is empty/],
      ['.', /"\.": it has a "\." segment/],
      ['..', /it has a "\.\." segment/],
      ['../x', /"\.\.\/x": it has a "\.\." segment/],
      ['a/../b', /it has a "\.\." segment/],
      ['a/./b', /it has a "\." segment/],
      ['/etc/passwd', /"\/etc\/passwd": it is absolute/],
      ['a//b', /"a\/\/b": it has an empty segment/],
      ['a/', /it ends with "\/"/],
      ['a\0b', /"a\\u0000b": it contains a NUL character/],
      ['a\nb', /it contains a control character \(U\+000A\)/],
      ['a b', /it contains " " \(U\+0020\)/],
      ['a\\b', /it contains "\\\\" \(U\+005C\)/],
      ['C:x', /it contains ":" \(U\+003A\)/],
      ['é', /it contains "é" \(U\+00E9\)/],
      ['😀', /it contains "😀" \(U\+1F600\)/],
      ['x'.repeat(256), /a segment is 256 characters long; the limit is 255/],
      ['a/'.repeat(512) + 'b', /is 1025 characters long; the limit is 1024/],
    ];
    for (const [name, why] of cases) refuses(() => validateObjectName(name), why);
  });

  it('refuses every name of the conformance suite', () => {
    for (const name of HOSTILE_NAMES) {
      assert.throws(() => validateObjectName(name), BadInputError, JSON.stringify(name));
      assert.equal(isValidObjectName(name), false);
    }
  });

  it('cuts very long names in the message', () => {
    refuses(
      () => validateObjectName('y'.repeat(100_000)),
      /^bad object name "y{60}…" \(100000 characters\): it is 100000/,
    );
  });

  it('refuses values that are not strings (JavaScript callers)', () => {
    refuses(() => validateObjectName(undefined as unknown as string), /it is a undefined, not a string/);
    refuses(() => validateObjectName(7 as unknown as string), /not a string/);
  });

  it('accepts exactly 1024 characters', () => {
    const name = `${'a'.repeat(255)}/${'b'.repeat(255)}/${'c'.repeat(255)}/${'d'.repeat(254)}/e`;
    assert.equal(name.length, 1024);
    assert.equal(validateObjectName(name), name);
  });
});

describe('validatePrefix', () => {
  it('accepts the empty prefix, names, partial segments and a trailing slash', () => {
    for (const prefix of ['', 'data', 'data/', 'data/a', 'data/ab/', 'keys/k']) {
      assert.equal(validatePrefix(prefix), prefix);
    }
  });

  it('refuses what a name may not contain, even in the last segment', () => {
    const cases: [string, RegExp][] = [
      ['/', /prefix "\/": it is absolute/],
      ['/etc', /it is absolute/],
      ['../x', /it has a "\.\." segment/],
      ['..', /it has a "\.\." segment/],
      ['.', /it has a "\." segment/],
      ['a/./', /it has a "\." segment/],
      ['a//', /it has an empty segment/],
      ['a//b', /it has an empty segment/],
      ['a\0', /NUL/],
      ['x'.repeat(1025), /limit is 1024/],
    ];
    for (const [prefix, why] of cases) refuses(() => validatePrefix(prefix), why);
  });
});
