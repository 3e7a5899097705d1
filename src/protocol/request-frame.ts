import { REQUEST_CODECS } from './generated/index.js';
import { writeRequestHeader } from './headers.js';
import { Writer } from './writer.js';

/** A complete request frame (size prefix, header, body) for `message` at `version`. */
export function requestFrame(apiKey: number, version: number, correlationId: number, clientId: string | null, message: object): Buffer {
  const w = new Writer();
  w.int32(0);
  writeRequestHeader(w, { apiKey, apiVersion: version, correlationId, clientId, taggedFields: undefined });
  REQUEST_CODECS[apiKey].write(w, message, version);
  const frame = w.toBuffer();
  frame.writeInt32BE(frame.length - 4, 0);
  return frame;
}
