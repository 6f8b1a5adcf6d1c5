import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe } from 'node:test';
import { certificateCases, credentialsCases, serverCases } from './suite/access.ts';
import { auditCases, probeCases } from './suite/audit.ts';
import type { Context } from './suite/context.ts';
import { commandCases, siteAgentCases, siteCases, workloadCases } from './suite/dr.ts';
import { planCases } from './suite/dr-plans.ts';
import { leaseCases } from './suite/leases.ts';
import { alertCases, jobCases } from './suite/operations.ts';
import { packCases, pointCases } from './suite/packs.ts';
import { tokenCases, usageCases, userCases } from './suite/people.ts';
import { replicationCases } from './suite/replication.ts';
import { transactionCases } from './suite/transactions.ts';
import { vaultCases } from './suite/vaults.ts';
import { deliveryCases, webhookCases } from './suite/webhooks.ts';
import type { Catalog } from './types.ts';

/**
 * The executable form of the Catalog contract in ./types.ts. Every backend runs it from
 * its own test file: `catalogSuite('PostgresCatalog', () => openTestCatalog())`. Each
 * test gets a fresh, empty catalog from `open` and closes it afterwards. Times are
 * passed as arguments throughout, so nothing here waits or reads the clock.
 */
export function catalogSuite(name: string, open: () => Promise<Catalog>): void {
  describe(name, () => {
    let current: Catalog | undefined;
    beforeEach(async () => {
      current = await open();
    });
    afterEach(async () => {
      await current?.close();
      current = undefined;
    });
    const ctx: Context = {
      get catalog() {
        assert.ok(current, 'no catalog: the factory failed');
        return current;
      },
    };
    describe('vaults', () => vaultCases(ctx));
    describe('vault credentials', () => credentialsCases(ctx));
    describe('uploaded certificates', () => certificateCases(ctx));
    describe('servers', () => serverCases(ctx));
    describe('packs', () => packCases(ctx));
    describe('recovery points', () => pointCases(ctx));
    describe('jobs', () => jobCases(ctx));
    describe('alerts', () => alertCases(ctx));
    describe('users', () => userCases(ctx));
    describe('API tokens', () => tokenCases(ctx));
    describe('usage history', () => usageCases(ctx));
    describe('webhooks', () => webhookCases(ctx));
    describe('webhook deliveries', () => deliveryCases(ctx));
    describe('replication status', () => replicationCases(ctx));
    describe('leases', () => leaseCases(ctx));
    describe('DR sites', () => siteCases(ctx));
    describe('DR site agents', () => siteAgentCases(ctx));
    describe('DR workloads', () => workloadCases(ctx));
    describe('DR commands', () => commandCases(ctx));
    describe('DR recovery plans', () => planCases(ctx));
    describe('audit log', () => auditCases(ctx));
    describe('region probes', () => probeCases(ctx));
    describe('transactions', () => transactionCases(ctx));
  });
}
