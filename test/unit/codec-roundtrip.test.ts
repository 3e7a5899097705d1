import { describe, expect, it } from 'vitest';
import { REQUEST_CODECS, RESPONSE_CODECS } from '../../src/protocol/generated/index.js';
import { MESSAGE_SCHEMAS } from '../../src/protocol/generated/schema.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { presentFields, randomMessage } from '../support/random-message.js';
import { Rng } from '../support/rng.js';

const SAMPLES_PER_VERSION = 8;

function encode(write: (w: Writer) => void): Buffer {
  const w = new Writer();
  write(w);
  return w.toBuffer();
}

describe('generated codecs round-trip every message at every version', () => {
  for (const schema of MESSAGE_SCHEMAS) {
    const codec = (schema.type === 'request' ? REQUEST_CODECS : RESPONSE_CODECS)[schema.apiKey];
    it(`${schema.name} v${schema.validVersions[0]}-${schema.validVersions[1]}`, () => {
      const rng = new Rng(schema.apiKey * 2 + (schema.type === 'request' ? 0 : 1));
      for (let version = schema.validVersions[0]; version <= schema.validVersions[1]; version++) {
        for (let i = 0; i < SAMPLES_PER_VERSION; i++) {
          const original = randomMessage(schema, version, rng);
          const bytes = encode((w) => codec.write(w, original, version));
          const r = new Reader(bytes);
          const decoded = codec.read(r, version);
          expect(r.remaining, `${schema.name} v${version}: bytes left after decode`).toBe(0);
          expect(presentFields(schema.fields, version, decoded), `${schema.name} v${version}`).toEqual(original);
          const reencoded = encode((w) => codec.write(w, decoded, version));
          expect(reencoded.equals(bytes), `${schema.name} v${version}: re-encoding differs`).toBe(true);
        }
      }
    });
  }

  it('covers every request and response API key the specs define', () => {
    const keys = (type: string) => MESSAGE_SCHEMAS.filter((s) => s.type === type).map((s) => s.apiKey);
    expect(keys('request').length).toBe(REQUEST_CODECS.length);
    expect(keys('response').length).toBe(RESPONSE_CODECS.length);
    expect(REQUEST_CODECS.length).toBeGreaterThanOrEqual(88);
  });
});
