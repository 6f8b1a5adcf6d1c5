import type { UsageRow } from '../types.ts';
import * as check from '../validate.ts';
import { keyOrNull, num, type Row, str } from './columns.ts';

// The usage_history table as both backends see it: columns, rows as objects, checked input
// and the errors of its operations. The SQL that reads and writes it is each backend's
// own.

export const USAGE_COLUMNS = 'vault_id, server_id, day, protected_bytes, stored_bytes, breakdown';

export function toUsage(row: Row): UsageRow {
  return {
    vaultId: str(row, 'vault_id'),
    serverId: keyOrNull(row, 'server_id'),
    day: str(row, 'day'),
    protectedBytes: num(row, 'protected_bytes'),
    storedBytes: num(row, 'stored_bytes'),
    breakdown: check.parseObject(str(row, 'breakdown')),
  };
}

/** The checked values of a usage row, in USAGE_COLUMNS order ('' for the vault totals). */
export function usageValues(input: UsageRow) {
  return [
    input.vaultId,
    input.serverId ?? '',
    check.day('day', input.day),
    check.whole('protectedBytes', input.protectedBytes),
    check.whole('storedBytes', input.storedBytes),
    check.jsonObject('breakdown', input.breakdown),
  ] as const;
}

/** vault_id and the checked first and last day of a listing. */
export function usageRange(vaultId: string, fromDay: string, toDay: string) {
  return [vaultId, check.day('fromDay', fromDay), check.day('toDay', toDay)] as const;
}
