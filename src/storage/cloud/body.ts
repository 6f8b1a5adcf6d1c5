import { TransientError } from '../../errors/index.ts';
import { shortRead } from './errors.ts';

/**
 * Reads a response body of `expected` bytes into one Buffer of its own. A body that
 * ends early is STORAGE_SHORT_READ, one that runs long is refused the same way (the
 * transfer is not what the service announced); both are transient.
 */
export async function readBody(
  body: AsyncIterable<unknown> | undefined,
  expected: number,
  what: { name: string; location: string },
): Promise<Buffer> {
  const out = Buffer.allocUnsafe(expected);
  let got = 0;
  if (body !== undefined) {
    for await (const chunk of body) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
      if (got + bytes.byteLength > expected) {
        throw new TransientError(
          'STORAGE_SHORT_READ',
          `${what.name} from ${what.location} is longer than the ${expected} bytes announced`,
          { hint: 'the transfer was garbled; the request is retried' },
        );
      }
      out.set(bytes, got);
      got += bytes.byteLength;
    }
  }
  if (got !== expected) throw shortRead(what.name, what.location, got, expected);
  return out;
}

/** The total size in a Content-Range answer ("bytes 0-9/10" → 10), if it names one. */
export function totalOfContentRange(contentRange: string | undefined): number | undefined {
  const match = /\/(\d+)\s*$/.exec(contentRange ?? '');
  return match === null ? undefined : Number(match[1]);
}
