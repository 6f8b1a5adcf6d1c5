import { BadInputError } from '../errors/index.ts';
import type { ByteRange } from './types.ts';

/** Refuses a malformed range before any I/O: offset and length must be whole numbers ≥ 0. */
export function validateRange(name: string, range: ByteRange | undefined): void {
  if (range === undefined) return;
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new BadInputError('BAD_RANGE', `bad range offset=${offset} length=${length} for ${name}`, {
      hint: 'offset and length are whole numbers of bytes, zero or more',
    });
  }
}

/** Refuses a range that does not fit in an object of `size` bytes (ending exactly at the end is fine). */
export function checkRangeFits(name: string, range: ByteRange, size: number): void {
  if (range.offset + range.length > size) {
    throw new BadInputError(
      'BAD_RANGE',
      `range ${range.offset}+${range.length} is past the end of ${name} (${size} bytes)`,
    );
  }
}
