import { ProtocolError } from './errors.js';
import type { Reader } from './reader.js';
import type { TaggedField } from './tagged-fields.js';
import type { Writer } from './writer.js';

/** Shared by every decoded empty byte field; never written to. */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

/** Kafka's Uuid.ZERO_UUID in text form. */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** A value the spec says may not be null in the version being written. */
export function nonNull<T>(value: T | null, field: string): T {
  if (value === null) throw new ProtocolError('null-not-allowed', `${field} may not be null in this version`);
  return value;
}

/** A known tagged field must use exactly the bytes its size prefix announced. */
export function endOfTaggedField(r: Reader, tag: number): void {
  if (r.remaining !== 0) {
    throw new ProtocolError('trailing-bytes', `tagged field ${tag} has ${r.remaining} bytes left over`);
  }
}

/** Writes a tagged-field section: count, then (tag, size, data) in ascending tag order. */
export function writeTaggedFields(w: Writer, fields: TaggedField[] | undefined): void {
  if (!fields || fields.length === 0) {
    w.uvarint(0);
    return;
  }
  const sorted = fields.length > 1 ? [...fields].sort((a, b) => a.tag - b.tag) : fields;
  w.uvarint(sorted.length);
  for (const f of sorted) {
    w.uvarint(f.tag);
    w.uvarint(f.data.length);
    w.raw(f.data);
  }
}
