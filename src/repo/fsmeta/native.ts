import { createRequire } from 'node:module';

/**
 * The project's own Node-API addon (native/offsite_native.c, built by `npm ci`): system
 * calls Node lacks. When it is missing (not built), callers fall back to Node's own
 * calls and lose only precision (times to ~0.24 µs) — never data.
 */
interface NativeFs {
  lutimesNs(path: Buffer, atimeNs: bigint, mtimeNs: bigint): void;
  mknod(path: Buffer, mode: number, major: number, minor: number): void;
}

function load(): NativeFs | undefined {
  try {
    return createRequire(import.meta.url)('../../../build/Release/offsite_native.node') as NativeFs;
  } catch {
    return undefined;
  }
}

export const nativeFs: NativeFs | undefined = load();
