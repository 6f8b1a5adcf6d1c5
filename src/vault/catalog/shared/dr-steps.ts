import type { Row } from './columns.ts';

// The statements a disaster-recovery operation (./dr.ts, ./dr-ops.ts) yields, for its
// backend to run: SQLite synchronously, PostgreSQL awaited, one result back per step.

export type Param = string | number | null;
export type Step = { op: 'get' | 'all' | 'run'; sql: string; params: Param[] };
export type Operation<T> = Generator<Step, T, unknown>;

export function* get(sql: string, ...params: Param[]): Operation<Row | undefined> {
  return (yield { op: 'get', sql, params }) as Row | undefined;
}

export function* all(sql: string, ...params: Param[]): Operation<Row[]> {
  return (yield { op: 'all', sql, params }) as Row[];
}

export function* run(sql: string, ...params: Param[]): Operation<number> {
  return (yield { op: 'run', sql, params }) as number;
}
