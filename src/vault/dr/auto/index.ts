// Opt-in automatic failover of recovery plans (issue 11): the plan option, the witnesses'
// evidence, the pure decision and acting on it. Service rules over the Catalog.

export * from './act.ts';
export * from './decide.ts';
export * from './evidence.ts';
export * from './plan-option.ts';
export * from './watch.ts';
