// Vault-side garbage collection of agents' repositories (DESIGN.md §2.7, docs/design.md
// §15): packs no retained or soft-deleted point references are condemned with a
// `gc-vault/` marker the agent's engine reads, and deleted after a grace period. Imports
// catalog, layout, repo (the marker format), storage and errors.

export { collectServerGarbage, collectVaultGarbage, type GcResult } from './collect.ts';
export { PACK_ID, syncVaultMarker } from './markers.ts';
export { DEFAULT_GC_OPTIONS, type GcOptions, type GcPlan, planGc } from './plan.ts';
