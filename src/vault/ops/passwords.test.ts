import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPassword, hashPassword, verifyDecoy, verifyPassword } from './passwords.ts';

describe('password hashing', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('correct horse battery');
    assert.equal(await verifyPassword('correct horse battery', stored), true);
    assert.equal(await verifyPassword('correct horse batterY', stored), false);
    assert.equal(await verifyPassword('', stored), false);
  });

  it('salts every hash and never holds the password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    assert.notEqual(a, b);
    assert.match(a, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    assert.ok(!a.includes('horse'));
  });

  it('treats the composed and decomposed forms of a letter as the same password', async () => {
    const stored = await hashPassword('mot de passe \u00e9t\u00e9');
    assert.equal(await verifyPassword('mot de passe e\u0301te\u0301', stored), true);
  });

  it('refuses a damaged or hostile stored hash instead of obeying it', async () => {
    const good = await hashPassword('correct horse battery');
    const parts = good.split('$');
    const variants = [
      'plain text',
      ['bcrypt', ...parts.slice(1)].join('$'),
      [parts[0], String(1 << 24), ...parts.slice(2)].join('$'),
      [parts[0], '1000', ...parts.slice(2)].join('$'),
      [...parts.slice(0, 5), 'c2hvcnQ='].join('$'),
    ];
    for (const stored of variants) {
      await assert.rejects(verifyPassword('correct horse battery', stored), {
        code: 'PASSWORD_HASH_DAMAGED',
      });
    }
  });

  it('does the same work for an unknown user and still says no', async () => {
    assert.equal(await verifyDecoy('anything at all'), false);
  });

  it('refuses short passwords with a hint, and absurdly long ones', () => {
    assert.throws(() => checkPassword('short'), { code: 'WEAK_PASSWORD', kind: 'bad-input' });
    assert.throws(() => checkPassword(42), { code: 'WEAK_PASSWORD' });
    assert.throws(() => checkPassword('x'.repeat(1025)), { code: 'BAD_FIELD' });
    assert.equal(checkPassword('twelve chars'), 'twelve chars');
  });
});
