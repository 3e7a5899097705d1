import { type Socket, connect } from 'node:net';
import { FrameSplitter } from '../../../src/protocol/frame-splitter.js';
import { RESPONSE_CODECS } from '../../../src/protocol/generated/index.js';
import { readResponseHeader } from '../../../src/protocol/headers.js';
import { Reader } from '../../../src/protocol/reader.js';
import { requestFrame } from '../../../src/protocol/request-frame.js';

export interface PipelinedRequest {
  apiKey: number;
  version: number;
  body: object;
}

export interface PipelinedResponse {
  correlationId: number;
  /** The raw frame, to search for names that must never appear. */
  frame: Buffer;
  /** Decoded at the version of the request in the same position; undefined when out of place. */
  body: unknown;
}

/**
 * Sends `requests` on one connection, all at once (optionally cut into `slices` writes), the way
 * an attacker pipelines them, and reads every response in arrival order. Correlation ids are
 * 1..n in request order, so a response in the wrong place shows at once.
 */
export function sendPipelined(
  port: number,
  requests: PipelinedRequest[],
  /** `closes`: the proxy is expected to end the connection early; resolve with what came before. */
  options: { slices?: number; timeoutMs?: number; closes?: boolean } = {},
): Promise<PipelinedResponse[]> {
  const bytes = Buffer.concat(requests.map((r, i) => requestFrame(r.apiKey, r.version, i + 1, 'hostile-pipeline', r.body)));
  return new Promise((resolve, reject) => {
    const responses: PipelinedResponse[] = [];
    const splitter = new FrameSplitter(256 * 1024 * 1024);
    const socket: Socket = connect({ host: '127.0.0.1', port }, () => {
      const slices = options.slices ?? 1;
      const step = Math.ceil(bytes.length / slices);
      for (let i = 0; i < bytes.length; i += step) socket.write(bytes.subarray(i, i + step));
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${responses.length} of ${requests.length} responses before the timeout`));
    }, options.timeoutMs ?? 60_000);
    socket.on('data', (chunk) => {
      splitter.push(chunk, (frame) => {
        const correlationId = frame.readInt32BE(4);
        const request = requests[responses.length];
        // A response out of its place is recorded undecoded: the caller's order check reports it.
        let body: unknown;
        if (correlationId === responses.length + 1) {
          const r = new Reader(frame, 4);
          readResponseHeader(r, request.apiKey, request.version);
          body = RESPONSE_CODECS[request.apiKey].read(r, request.version);
        }
        responses.push({ correlationId, frame, body });
        if (responses.length === requests.length) {
          clearTimeout(timer);
          socket.end();
          resolve(responses);
        }
      });
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (responses.length === requests.length) return;
      if (options.closes) resolve(responses);
      else reject(new Error(`connection closed after ${responses.length} of ${requests.length} responses`));
    });
  });
}
