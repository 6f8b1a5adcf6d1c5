// Recovery plans and the failover runner (DESIGN.md §6): plans in YAML, the steps of a
// run built at its start, the runner that walks them under the server's background
// lease, and what people do to runs (confirm, commit, cleanup, reprotect, failback).
// Service rules over the Catalog; no HTTP here (src/server/dr-plan-routes.ts).

export * from './actions.ts';
export * from './apply.ts';
export * from './build.ts';
export * from './drills.ts';
export * from './json.ts';
export * from './plan-file.ts';
export * from './runner.ts';
export * from './start.ts';
