import { REQUEST_CODECS, REQUEST_SCANNERS } from '../src/protocol/generated/index.js';
import { readRequestHeader } from '../src/protocol/headers.js';
import { Reader } from '../src/protocol/reader.js';
import { fetchFrame, produceFrame } from './codec-requests.js';
import { measureAllocation, measureRate } from './measure.js';

export interface CodecCase {
  name: string;
  frameBytes: number;
  /** Header + entity scan: what the proxy does to every request before it decides. */
  scansPerSecond: number;
  scanBytesAllocated: number;
  /** Header + full decode: what the proxy does to a request it must rebuild (partial denial). */
  decodesPerSecond: number;
  decodeBytesAllocated: number;
}

let entityCount = 0;
const countEntity = (): void => {
  entityCount++;
};

function scan(frame: Buffer): void {
  const r = new Reader(frame, 4);
  const header = readRequestHeader(r);
  REQUEST_SCANNERS[header.apiKey]!(r, header.apiVersion, countEntity);
}

function decode(frame: Buffer): unknown {
  const r = new Reader(frame, 4);
  const header = readRequestHeader(r);
  return REQUEST_CODECS[header.apiKey].read(r, header.apiVersion);
}

const CASES: [string, Buffer][] = [
  ['Produce v11, 10 partitions, 1 MiB records', produceFrame(11, 10, 1 << 20)],
  ['Produce v11, 10 partitions, 1 KiB records', produceFrame(11, 10, 1 << 10)],
  ['Produce v7 (kafkajs), 10 partitions, 1 MiB records', produceFrame(7, 10, 1 << 20)],
  ['Fetch v17 (topic ids), 10 partitions', fetchFrame(17, 10)],
  ['Fetch v11 (topic names), 10 partitions', fetchFrame(11, 10)],
];

/** Header + body decode of Produce and Fetch requests on one core. */
export async function runCodecBench(progress: (line: string) => void): Promise<CodecCase[]> {
  const results: CodecCase[] = [];
  for (const [name, frame] of CASES) {
    progress(`codec: ${name} ...`);
    results.push({
      name,
      frameBytes: frame.length,
      scansPerSecond: Math.round(measureRate(() => scan(frame)).opsPerSecond),
      scanBytesAllocated: Math.round(await measureAllocation(() => scan(frame))),
      decodesPerSecond: Math.round(measureRate(() => decode(frame)).opsPerSecond),
      decodeBytesAllocated: Math.round(await measureAllocation(() => decode(frame))),
    });
  }
  if (entityCount === 0) throw new Error('the scanner reported no entities: the benchmark measured nothing');
  return results;
}
