import { describe, expect, it } from 'vitest';
import { canonicalQueryString, constantTimeEquals, presignedSignature, uriEncode } from '../../src/auth/aws/sigv4.js';
import { AWS_HOST, PROXY_HOST, SECRET, SESSION_TOKEN, SIGNED_AT } from '../support/aws-sign.js';

const query = {
  action: 'kafka-cluster:Connect',
  algorithm: 'AWS4-HMAC-SHA256',
  credential: 'AKIDEXAMPLE/20240115/us-east-1/kafka-cluster/aws4_request',
  date: SIGNED_AT,
  expires: '900',
  signedHeaders: 'host',
};

describe('SigV4 presigned kafka-cluster:Connect (PROTOCOL-NOTES §4 vectors)', () => {
  it('vector A: the proxy host, no session token', () => {
    expect(presignedSignature(SECRET, 'us-east-1', PROXY_HOST, query)).toBe('5e09b5ab91a0727b2b7adcff3e3d5909bbd8ebfc06feaf7e9bfcff514a674c61');
  });

  it('vector B: kafka.us-east-1.amazonaws.com, no session token', () => {
    expect(presignedSignature(SECRET, 'us-east-1', AWS_HOST, query)).toBe('d3db093cc03c451540f829278e026651a0209daa7a5985b92245f43aaa31de65');
  });

  it('vector B with a session token, which is signed', () => {
    expect(presignedSignature(SECRET, 'us-east-1', AWS_HOST, { ...query, securityToken: SESSION_TOKEN })).toBe(
      'a3f4849734e68730a146ff2b9b16d2de73402e2c2144429bbcfd4caac8c30c24',
    );
  });

  it('a fractional X-Amz-Expires is signed verbatim (signature from @smithy/signature-v4, the JS signer\'s library)', () => {
    expect(presignedSignature(SECRET, 'us-east-1', AWS_HOST, { ...query, expires: '899.5' })).toBe(
      '593c87bc88d62c06204641bf0b78cd0ee371348bbebcc5c59fa0ab71cb3bc761',
    );
  });

  it('signing keys are remembered per secret and region: a rotated secret signs differently at once', () => {
    const vectorA = '5e09b5ab91a0727b2b7adcff3e3d5909bbd8ebfc06feaf7e9bfcff514a674c61';
    expect(presignedSignature(SECRET, 'us-east-1', PROXY_HOST, query)).toBe(vectorA);
    expect(presignedSignature(`${SECRET}-rotated`, 'us-east-1', PROXY_HOST, query)).not.toBe(vectorA);
    expect(presignedSignature(SECRET, 'us-west-2', PROXY_HOST, query)).not.toBe(vectorA);
    expect(presignedSignature(SECRET, 'us-east-1', PROXY_HOST, query)).toBe(vectorA);
  });
});

describe('canonical query string', () => {
  it('sorts the pairs by name, with the security token between X-Amz-Expires and X-Amz-SignedHeaders', () => {
    expect(canonicalQueryString({ ...query, securityToken: SESSION_TOKEN })).toBe(
      'Action=kafka-cluster%3AConnect&X-Amz-Algorithm=AWS4-HMAC-SHA256' +
        '&X-Amz-Credential=AKIDEXAMPLE%2F20240115%2Fus-east-1%2Fkafka-cluster%2Faws4_request' +
        '&X-Amz-Date=20240115T120000Z&X-Amz-Expires=900' +
        '&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE%2FSESSION%2BTOKEN%3D&X-Amz-SignedHeaders=host',
    );
  });

  it('keeps only A-Za-z0-9-._~ literal and encodes everything else as uppercase %XX', () => {
    expect(uriEncode("Az09-._~ !'()*+/=:é")).toBe('Az09-._~%20%21%27%28%29%2A%2B%2F%3D%3A%C3%A9');
  });
});

describe('constantTimeEquals', () => {
  it('compares strings of any length', () => {
    expect(constantTimeEquals('abc', 'abc')).toBe(true);
    expect(constantTimeEquals('abc', 'abd')).toBe(false);
    expect(constantTimeEquals('abc', 'abcd')).toBe(false);
    expect(constantTimeEquals('', '')).toBe(true);
  });
});
