import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Catalog, RegistrationMethod } from '../types.ts';
import { type Context, DAY, fingerprint, HOUR, makeServer, makeVault, rejectsWith, T0 } from './context.ts';

function issue(c: Catalog, vaultId: string, secretHash: string, issuedAt = T0) {
  return c.issueCredentials({ vaultId, secretHash, issuedAt, expiresAt: issuedAt + 48 * HOUR });
}

export function credentialsCases(ctx: Context): void {
  it('consumes fresh credentials once, marking them used', async () => {
    const vault = await makeVault(ctx.catalog);
    const issued = await issue(ctx.catalog, vault.id, 'h1');
    assert.deepEqual(issued, {
      id: issued.id,
      vaultId: vault.id,
      secretHash: 'h1',
      issuedAt: T0,
      expiresAt: T0 + 48 * HOUR,
      usedAt: null,
      supersededAt: null,
    });
    const used = await ctx.catalog.consumeCredentials('h1', T0 + HOUR);
    assert.deepEqual(used, { ...issued, usedAt: T0 + HOUR });
    await rejectsWith(ctx.catalog.consumeCredentials('h1', T0 + 2 * HOUR), 'auth', 'CREDENTIALS_USED');
  });

  it('refuses unknown credentials', async () => {
    await rejectsWith(ctx.catalog.consumeCredentials('nothing', T0), 'auth', 'CREDENTIALS_UNKNOWN');
  });

  it('refuses expired credentials from their expiry time on, and does not mark them used', async () => {
    const vault = await makeVault(ctx.catalog);
    await issue(ctx.catalog, vault.id, 'h1');
    await rejectsWith(ctx.catalog.consumeCredentials('h1', T0 + 48 * HOUR), 'auth', 'CREDENTIALS_EXPIRED');
    await rejectsWith(ctx.catalog.consumeCredentials('h1', T0 + 49 * HOUR), 'auth', 'CREDENTIALS_EXPIRED');
    const other = await makeVault(ctx.catalog, 'other');
    await issue(ctx.catalog, other.id, 'h2');
    assert.equal((await ctx.catalog.consumeCredentials('h2', T0 + 48 * HOUR - 1)).vaultId, other.id);
  });

  it('accepts only the newest credentials of a vault', async () => {
    const vault = await makeVault(ctx.catalog);
    const other = await makeVault(ctx.catalog, 'other');
    await issue(ctx.catalog, vault.id, 'old');
    await issue(ctx.catalog, other.id, 'elsewhere', T0 + 1);
    const newest = await issue(ctx.catalog, vault.id, 'new', T0 + HOUR);
    assert.equal(newest.supersededAt, null);
    await rejectsWith(ctx.catalog.consumeCredentials('old', T0 + 2 * HOUR), 'auth', 'CREDENTIALS_SUPERSEDED');
    assert.equal((await ctx.catalog.consumeCredentials('new', T0 + 2 * HOUR)).id, newest.id);
    assert.equal((await ctx.catalog.consumeCredentials('elsewhere', T0 + 2 * HOUR)).vaultId, other.id);
  });

  it('names use before supersession, and supersession before expiry', async () => {
    const vault = await makeVault(ctx.catalog);
    await issue(ctx.catalog, vault.id, 'a');
    await ctx.catalog.consumeCredentials('a', T0 + 1);
    await issue(ctx.catalog, vault.id, 'b', T0 + 2);
    await issue(ctx.catalog, vault.id, 'c', T0 + 3);
    await rejectsWith(ctx.catalog.consumeCredentials('a', T0 + 100 * HOUR), 'auth', 'CREDENTIALS_USED');
    await rejectsWith(ctx.catalog.consumeCredentials('b', T0 + 100 * HOUR), 'auth', 'CREDENTIALS_SUPERSEDED');
    await rejectsWith(ctx.catalog.consumeCredentials('c', T0 + 100 * HOUR), 'auth', 'CREDENTIALS_EXPIRED');
  });

  it('lets exactly one of two simultaneous consumers win', async () => {
    const vault = await makeVault(ctx.catalog);
    await issue(ctx.catalog, vault.id, 'h');
    const results = await Promise.allSettled([
      ctx.catalog.consumeCredentials('h', T0 + 1),
      ctx.catalog.consumeCredentials('h', T0 + 1),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  });

  it('refuses duplicate secrets, unknown or deleted vaults and bad times, superseding nothing', async () => {
    const vault = await makeVault(ctx.catalog);
    await issue(ctx.catalog, vault.id, 'h1');
    await rejectsWith(issue(ctx.catalog, vault.id, 'h1', T0 + 1), 'conflict', 'CREDENTIALS_EXISTS');
    const backwards = { vaultId: vault.id, secretHash: 'h3', issuedAt: T0, expiresAt: T0 };
    await rejectsWith(ctx.catalog.issueCredentials(backwards), 'bad-input', 'BAD_FIELD');
    await rejectsWith(issue(ctx.catalog, 'no-such-vault', 'h4'), 'not-found', 'VAULT_NOT_FOUND');
    assert.equal((await ctx.catalog.consumeCredentials('h1', T0 + 2)).secretHash, 'h1');
    const gone = await makeVault(ctx.catalog, 'gone');
    await ctx.catalog.deleteVault(gone.id, T0);
    await rejectsWith(issue(ctx.catalog, gone.id, 'h5'), 'conflict', 'VAULT_DELETED');
  });
}

export function certificateCases(ctx: Context): void {
  const upload = (c: Catalog, vaultId: string, label: string, uploadedAt = T0) =>
    c.addCertificate({
      vaultId,
      fingerprint256: fingerprint(label),
      subject: `CN=${label}`,
      notAfter: T0 + 365 * DAY,
      uploadedAt,
    });

  it('adds, finds, lists and revokes uploaded certificates', async () => {
    const vault = await makeVault(ctx.catalog);
    const other = await makeVault(ctx.catalog, 'other');
    const a = await upload(ctx.catalog, vault.id, 'a');
    const b = await upload(ctx.catalog, vault.id, 'b', T0 + 1);
    await upload(ctx.catalog, other.id, 'c');
    assert.deepEqual(a, {
      id: a.id,
      vaultId: vault.id,
      fingerprint256: fingerprint('a'),
      subject: 'CN=a',
      notAfter: T0 + 365 * DAY,
      uploadedAt: T0,
      revokedAt: null,
    });
    assert.deepEqual(await ctx.catalog.findCertificate(fingerprint('a')), a);
    assert.equal(await ctx.catalog.findCertificate(fingerprint('zzz')), undefined);
    assert.deepEqual(await ctx.catalog.listCertificates(vault.id), [a, b]);
    const revoked = await ctx.catalog.revokeCertificate(a.id, T0 + DAY);
    assert.equal(revoked.revokedAt, T0 + DAY);
    assert.equal((await ctx.catalog.revokeCertificate(a.id, T0 + 2 * DAY)).revokedAt, T0 + DAY);
    assert.deepEqual(await ctx.catalog.findCertificate(fingerprint('a')), revoked);
  });

  it('refuses a fingerprint uploaded before, in any vault', async () => {
    const vault = await makeVault(ctx.catalog);
    const other = await makeVault(ctx.catalog, 'other');
    await upload(ctx.catalog, vault.id, 'a');
    await rejectsWith(upload(ctx.catalog, vault.id, 'a'), 'conflict', 'CERTIFICATE_EXISTS');
    await rejectsWith(upload(ctx.catalog, other.id, 'a'), 'conflict', 'CERTIFICATE_EXISTS');
  });

  it('refuses malformed fingerprints and unknown ids', async () => {
    const vault = await makeVault(ctx.catalog);
    for (const fp of [fingerprint('a').toUpperCase(), 'abc', `${fingerprint('a')}00`]) {
      const input = { vaultId: vault.id, fingerprint256: fp, subject: 'CN=x', notAfter: T0, uploadedAt: T0 };
      await rejectsWith(ctx.catalog.addCertificate(input), 'bad-input', 'BAD_FIELD');
    }
    await rejectsWith(ctx.catalog.revokeCertificate('nope', T0), 'not-found', 'CERTIFICATE_NOT_FOUND');
    await rejectsWith(ctx.catalog.listCertificates('nope'), 'not-found', 'VAULT_NOT_FOUND');
  });
}

export function serverCases(ctx: Context): void {
  it('registers servers and finds them by id, by fingerprint and per vault', async () => {
    const vault = await makeVault(ctx.catalog);
    const other = await makeVault(ctx.catalog, 'other');
    const web = await makeServer(ctx.catalog, vault.id, 'web');
    const db = await ctx.catalog.registerServer({
      vaultId: vault.id,
      name: 'db',
      certFingerprint: fingerprint('db-cert'),
      certNotAfter: T0 + DAY,
      via: 'certificate',
      registeredAt: T0 + 1,
    });
    await makeServer(ctx.catalog, other.id, 'web');
    assert.deepEqual(db, {
      id: db.id,
      vaultId: vault.id,
      name: 'db',
      certFingerprint: fingerprint('db-cert'),
      certNotAfter: T0 + DAY,
      via: 'certificate',
      registeredAt: T0 + 1,
      lastSeenAt: null,
    });
    assert.deepEqual(await ctx.catalog.getServer(web.id), web);
    assert.deepEqual(await ctx.catalog.findServerByFingerprint(fingerprint('db-cert')), db);
    assert.equal(await ctx.catalog.findServerByFingerprint(fingerprint('unknown')), undefined);
    assert.deepEqual(await ctx.catalog.listServers(vault.id), [db, web]);
  });

  it('refuses a taken certificate or a taken name in the vault', async () => {
    const vault = await makeVault(ctx.catalog);
    const web = await makeServer(ctx.catalog, vault.id, 'web');
    const input = {
      vaultId: vault.id,
      name: 'other-name',
      certFingerprint: web.certFingerprint,
      certNotAfter: T0,
      via: 'credentials' as const,
      registeredAt: T0,
    };
    await rejectsWith(ctx.catalog.registerServer(input), 'conflict', 'CERTIFICATE_IN_USE');
    const sameName = { ...input, name: 'web', certFingerprint: fingerprint('fresh') };
    await rejectsWith(ctx.catalog.registerServer(sameName), 'conflict', 'SERVER_EXISTS');
    const badVia = { ...input, certFingerprint: fingerprint('x'), via: 'magic' as RegistrationMethod };
    await rejectsWith(ctx.catalog.registerServer(badVia), 'bad-input', 'BAD_FIELD');
    assert.equal((await ctx.catalog.listServers(vault.id)).length, 1);
    await ctx.catalog.deleteVault(vault.id, T0);
    await rejectsWith(makeServer(ctx.catalog, vault.id, 'late'), 'conflict', 'VAULT_DELETED');
    await rejectsWith(ctx.catalog.getServer('nope'), 'not-found', 'SERVER_NOT_FOUND');
  });

  it('renews a certificate: the new fingerprint matches, the old one no longer does', async () => {
    const vault = await makeVault(ctx.catalog);
    const web = await makeServer(ctx.catalog, vault.id, 'web');
    const db = await makeServer(ctx.catalog, vault.id, 'db');
    const renewed = await ctx.catalog.renewServerCertificate(web.id, {
      certFingerprint: fingerprint('web-2'),
      certNotAfter: T0 + 400 * DAY,
    });
    assert.deepEqual(renewed, {
      ...web,
      certFingerprint: fingerprint('web-2'),
      certNotAfter: T0 + 400 * DAY,
    });
    assert.equal(await ctx.catalog.findServerByFingerprint(web.certFingerprint), undefined);
    assert.deepEqual(await ctx.catalog.findServerByFingerprint(fingerprint('web-2')), renewed);
    const steal = { certFingerprint: db.certFingerprint, certNotAfter: T0 };
    await rejectsWith(ctx.catalog.renewServerCertificate(web.id, steal), 'conflict', 'CERTIFICATE_IN_USE');
    assert.deepEqual(await ctx.catalog.getServer(web.id), renewed);
    await rejectsWith(ctx.catalog.renewServerCertificate('nope', steal), 'not-found', 'SERVER_NOT_FOUND');
  });

  it('records when a server was last seen, never moving backwards', async () => {
    const vault = await makeVault(ctx.catalog);
    const web = await makeServer(ctx.catalog, vault.id);
    await ctx.catalog.touchServer(web.id, T0 + 10);
    assert.equal((await ctx.catalog.getServer(web.id)).lastSeenAt, T0 + 10);
    await ctx.catalog.touchServer(web.id, T0 + 5);
    assert.equal((await ctx.catalog.getServer(web.id)).lastSeenAt, T0 + 10);
    await ctx.catalog.touchServer(web.id, T0 + 20);
    assert.equal((await ctx.catalog.getServer(web.id)).lastSeenAt, T0 + 20);
    await rejectsWith(ctx.catalog.touchServer('nope', T0), 'not-found', 'SERVER_NOT_FOUND');
  });
}
