// Region probes: how fast each region the vault server offers is from a protected server
// (the agent measures; the vault relays test objects and keeps the last result).
export {
  DEFAULT_PROBE_BYTES,
  MAX_PROBE_BYTES,
  median,
  type OfferedRegion,
  PINGS,
  type ProbeTransport,
  probeRegions,
  type RegionProbe,
} from './measure.ts';
export { ProbeWindow } from './window.ts';
