import { describe, expect, it } from 'vitest';
import { SaslMessageError, isClientErrorAck, parseOAuthBearerClientMessage } from '../../src/sasl/oauthbearer-message.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const parse = (text: string) => parseOAuthBearerClientMessage(bytes(text));

function rejection(text: string | Uint8Array): string {
  try {
    parseOAuthBearerClientMessage(typeof text === 'string' ? bytes(text) : text);
  } catch (e) {
    expect(e).toBeInstanceOf(SaslMessageError);
    return (e as Error).message;
  }
  throw new Error('expected the message to be rejected');
}

describe('OAUTHBEARER client first message', () => {
  it('parses the plain form Kafka clients send', () => {
    expect(parse(`n,,\x01auth=Bearer ${TOKEN}\x01\x01`)).toEqual({ token: TOKEN, extensions: {} });
  });

  it('accepts the scheme in any case and several spaces before the token', () => {
    expect(parse(`n,,\x01auth=bEaReR   ${TOKEN}\x01\x01`).token).toBe(TOKEN);
  });

  it('accepts every b64token character and trailing "=" padding', () => {
    expect(parse('n,,\x01auth=Bearer aZ09-._~+/==\x01\x01').token).toBe('aZ09-._~+/==');
  });

  it('returns the authzid with =2C and =3D decoded', () => {
    expect(parse(`n,a=user=2Cteam=3Dx,\x01auth=Bearer ${TOKEN}\x01\x01`)).toEqual({ token: TOKEN, authzid: 'user,team=x', extensions: {} });
    expect(parse(`n,a==3D2C,\x01auth=Bearer ${TOKEN}\x01\x01`).authzid).toBe('=2C');
    expect(parse(`n,a=jürgen,\x01auth=Bearer ${TOKEN}\x01\x01`).authzid).toBe('jürgen');
  });

  it('returns extensions, in any order around auth, without the auth key', () => {
    const message = parse(`n,a=svc,\x01traceId=abc 123\x01auth=Bearer ${TOKEN}\x01logicalCluster=lkc-1\x01\x01`);
    expect(message).toEqual({ token: TOKEN, authzid: 'svc', extensions: { traceId: 'abc 123', logicalCluster: 'lkc-1' } });
  });

  it('keeps extension names that are also Object.prototype members as plain data', () => {
    expect(parse(`n,,\x01auth=Bearer ${TOKEN}\x01constructor=x\x01\x01`).extensions).toEqual({ constructor: 'x' });
  });

  const malformed: Array<[string, string | Uint8Array, RegExp]> = [
    ['an empty message', '', /empty message/],
    ['invalid UTF-8', new Uint8Array([0x6e, 0x2c, 0xff, 0x2c, 0x01, 0x01]), /UTF-8/],
    ['a missing GS2 header', `\x01auth=Bearer ${TOKEN}\x01\x01`, /does not start with "n,"/],
    ['channel binding flag p', `p=tls-unique,,\x01auth=Bearer ${TOKEN}\x01\x01`, /channel binding flag "p"/],
    ['channel binding flag y', `y,,\x01auth=Bearer ${TOKEN}\x01\x01`, /channel binding flag "y"/],
    ['an unterminated GS2 header', 'n,a=user', /no closing ","/],
    ['a GS2 field other than a=', `n,x=user,\x01auth=Bearer ${TOKEN}\x01\x01`, /not "a=<authzid>"/],
    ['an empty authzid', `n,a=,\x01auth=Bearer ${TOKEN}\x01\x01`, /authzid is empty/],
    ['a bare "=" in the authzid', `n,a=us=er,\x01auth=Bearer ${TOKEN}\x01\x01`, /authzid/],
    ['a lower-case escape in the authzid', `n,a=us=2cer,\x01auth=Bearer ${TOKEN}\x01\x01`, /authzid/],
    ['a control character in the authzid', `n,a=us\ter,\x01auth=Bearer ${TOKEN}\x01\x01`, /authzid/],
    ['no \\x01 after the header', `n,,auth=Bearer ${TOKEN}\x01\x01`, /expected \\x01 after the GS2 header/],
    ['a single closing \\x01', `n,,\x01auth=Bearer ${TOKEN}\x01`, /does not end with \\x01\\x01/],
    ['only the header and one \\x01', 'n,,\x01', /does not end with/],
    ['no key-value pairs', 'n,,\x01\x01', /no "auth" key/],
    ['no auth key', 'n,,\x01foo=bar\x01\x01', /no "auth" key/],
    ['data after the end', `n,,\x01auth=Bearer ${TOKEN}\x01\x01more=x\x01\x01`, /data after the closing/],
    ['a pair without "="', `n,,\x01auth=Bearer ${TOKEN}\x01novalue\x01\x01`, /pair 2 has no key/],
    ['a key that is not letters', `n,,\x01auth=Bearer ${TOKEN}\x01trace_id=1\x01\x01`, /pair 2 has no key/],
    ['an empty key', `n,,\x01auth=Bearer ${TOKEN}\x01=x\x01\x01`, /pair 2 has no key/],
    ['an empty value', `n,,\x01auth=Bearer ${TOKEN}\x01foo=\x01\x01`, /value of "foo"/],
    ['a non-ASCII value', `n,,\x01auth=Bearer ${TOKEN}\x01foo=é\x01\x01`, /value of "foo"/],
    ['a control character in a value', `n,,\x01auth=Bearer ${TOKEN}\x01foo=a\x02b\x01\x01`, /value of "foo"/],
    ['auth twice', `n,,\x01auth=Bearer ${TOKEN}\x01auth=Bearer ${TOKEN}\x01\x01`, /"auth" appears more than once/],
    ['an extension twice', `n,,\x01auth=Bearer ${TOKEN}\x01a=1\x01a=2\x01\x01`, /"a" appears more than once/],
    ['a scheme other than Bearer', `n,,\x01auth=Basic ${TOKEN}\x01\x01`, /scheme is not Bearer/],
    ['no space after the scheme', `n,,\x01auth=Bearer${TOKEN}\x01\x01`, /not "Bearer <token>"/],
    ['no token', 'n,,\x01auth=Bearer \x01\x01', /not "Bearer <token>"/],
    ['a character outside b64token', `n,,\x01auth=Bearer ${TOKEN}!\x01\x01`, /not "Bearer <token>"/],
    ['"=" inside the token', 'n,,\x01auth=Bearer ab=cd\x01\x01', /not "Bearer <token>"/],
    ['trailing space after the token', `n,,\x01auth=Bearer ${TOKEN} \x01\x01`, /not "Bearer <token>"/],
  ];

  it.each(malformed)('rejects %s', (_, text, reason) => {
    expect(rejection(text)).toMatch(reason);
  });

  it('cuts a long extension key in an error message', () => {
    const key = 'k'.repeat(100_000);
    const message = rejection(`n,,\x01auth=Bearer ${TOKEN}\x01${key}=1\x01${key}=2\x01\x01`);
    expect(message).toMatch(/key "k+"\.\.\. \(100000 characters\) appears more than once/);
    expect(message.length).toBeLessThan(400);
  });

  it('never puts the token or extension values in an error message', () => {
    const secret = 'SECRETVALUE';
    const messages = [
      `n,,\x01auth=Basic ${secret}\x01\x01`,
      `n,,\x01auth=Bearer ${secret}!\x01\x01`,
      `n,,\x01auth=Bearer ${secret}\x01auth=Bearer ${secret}\x01\x01`,
      `n,,\x01auth=Bearer ${secret}\x01\x01${secret}\x01\x01`,
      `n,,\x01auth=Bearer ${secret}\x01${secret}\x01\x01`,
      `n,,\x01x=${secret}\x02\x01\x01`,
      `n,a=${secret}\x00,\x01\x01`,
    ].map(rejection);
    for (const message of messages) expect(message).not.toContain(secret);
  });

  it('recognises the client error acknowledgement as exactly one 0x01 byte', () => {
    expect(isClientErrorAck(new Uint8Array([0x01]))).toBe(true);
    expect(isClientErrorAck(new Uint8Array([]))).toBe(false);
    expect(isClientErrorAck(new Uint8Array([0x01, 0x01]))).toBe(false);
    expect(isClientErrorAck(new Uint8Array([0x00]))).toBe(false);
  });
});
