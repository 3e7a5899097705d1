/** Why a byte sequence could not be decoded (or a value encoded). */
export type ProtocolErrorCode =
  | 'truncated'
  | 'invalid-length'
  | 'varint-overflow'
  | 'null-not-allowed'
  | 'trailing-bytes'
  | 'frame-too-large'
  | 'unsupported-version'
  | 'value-out-of-range'
  /** More entities in one request than limits.maxEntitiesPerRequest allows. */
  | 'too-many-entities';

/**
 * The only error the codecs throw for bad input. Callers (the proxy session) catch this type
 * to answer or close one connection; anything else is a bug in the proxy itself.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
  }
}
