// The lease part of the Catalog contract (./types.ts): named, expiring claims that let
// several vault server instances sharing one catalog agree on who does a piece of work
// (a background task, retention of one server's points), split out only to keep the
// contract file readable.

/** A named lease: `holder` has it while now < expiresAt. */
export interface LeaseRow {
  name: string;
  /** Whoever took it last (an instance id, a request); still named once it has expired. */
  holder: string;
  /** When the holder took it; renewals keep it. */
  acquiredAt: number;
  /** A release sets it to the release time. */
  expiresAt: number;
  /**
   * How many times the lease was taken (not renewed): it changes whenever the lease
   * changes hands or is taken again after it ran out, so it can serve as a fencing token.
   */
  generation: number;
}
