import { REQUEST_CODECS } from './generated/index.js';
import { type RequestHeader, writeRequestHeader } from './headers.js';
import { Writer } from './writer.js';

/** A complete request frame (size prefix, header, body) for `message` at `version`. */
export function requestFrame(apiKey: number, version: number, correlationId: number, clientId: string | null, message: object): Buffer {
  return requestFrameWithHeader({ apiKey, apiVersion: version, correlationId, clientId, taggedFields: undefined }, message);
}

/** A request frame that keeps every header field of `header` (tagged fields too): for requests rebuilt from a client's. */
export function requestFrameWithHeader(header: Omit<RequestHeader, 'headerVersion'>, message: object): Buffer {
  const w = new Writer();
  w.int32(0);
  writeRequestHeader(w, header);
  REQUEST_CODECS[header.apiKey].write(w, message, header.apiVersion);
  const frame = w.toBuffer();
  frame.writeInt32BE(frame.length - 4, 0);
  return frame;
}
