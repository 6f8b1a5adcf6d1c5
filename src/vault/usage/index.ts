// Usage accounting (DESIGN.md §4): protected and stored bytes per vault, server and
// recovery point, the breakdown that explains the difference, and daily history in the
// catalog. Imports catalog, layout, retention (how points group), storage and util.

export {
  addBreakdowns,
  type Breakdown,
  breakdownJson,
  type Explanation,
  emptyBreakdown,
  explain,
} from './breakdown.ts';
export { computeUsage, type PointUsage, type ServerUsage, type VaultUsage } from './compute.ts';
export { recordUsageHistory, usageHistory, utcDay } from './history.ts';
