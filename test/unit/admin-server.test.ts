import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminCaller, type AdminSource, startAdminServer, tokenDigest } from '../../src/observe/admin-server.js';

const TOKEN = 'a-long-enough-admin-token-0123456789';

/** Records what reached the source, so each test can tell whether a refused call got through. */
function recordingSource() {
  const calls: Array<{ what: string; listener?: string; mode?: unknown; caller?: AdminCaller }> = [];
  let ready = false;
  const source: AdminSource = {
    contentType: 'text/plain; version=0.0.4',
    metrics: async () => 'kafka_proxy_workers{state="ready"} 2\n',
    workerMetrics: async (id) => (id === 1 ? 'one\n' : undefined),
    readiness: async () => ({ ready, notReady: ready ? [] : ['no worker accepts connections yet'] }),
    status: async () => ({ ready }),
    setMode: async (listener, mode, caller) => {
      calls.push({ what: 'mode', listener, mode, caller });
      return { status: 200, body: { listener, mode } };
    },
    reload: async (caller) => {
      calls.push({ what: 'reload', caller });
      return { status: 200, body: { result: 'in-place' } };
    },
  };
  return { source, calls, setReady: (r: boolean) => (ready = r) };
}

describe('admin server', () => {
  const { source, calls, setReady } = recordingSource();
  let server: Server;
  let base: string;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const json = { ...auth, 'content-type': 'application/json' };

  beforeAll(async () => {
    server = await startAdminServer('127.0.0.1', 0, source, () => tokenDigest(`${TOKEN}\n`), () => {});
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  it('answers the probes without a token: alive at once, ready when the source says so', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toBe('not ready: no worker accepts connections yet\n');
    setReady(true);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('asks for the bearer token on everything else, and refuses a wrong one', async () => {
    for (const path of ['/metrics', '/metrics?worker=1', '/status']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect((await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN.slice(1)}` } })).status).toBe(401);
      expect((await fetch(`${base}${path}`, { headers: { authorization: TOKEN } })).status).toBe(401);
      expect((await fetch(`${base}${path}`, { headers: auth })).status).toBe(200);
    }
    expect((await fetch(`${base}/listeners/plain/mode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"mode":"allow-all"}' })).status).toBe(401);
    expect(calls).toEqual([]);
  });

  it('takes changes only as JSON, so a web page cannot post one to loopback without a preflight', async () => {
    const form = await fetch(`${base}/listeners/plain/mode`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: '{"mode":"allow-all"}' });
    expect(form.status).toBe(415);
    const broken = await fetch(`${base}/reload`, { method: 'POST', headers: json, body: '{"by":' });
    expect(broken.status).toBe(400);
    const array = await fetch(`${base}/reload`, { method: 'POST', headers: json, body: '[1]' });
    expect(array.status).toBe(400);
    const huge = await fetch(`${base}/reload`, { method: 'POST', headers: json, body: JSON.stringify({ by: 'x'.repeat(10_000) }) }).catch((e: Error) => e);
    expect(huge instanceof Error ? 'reset' : huge.status).toMatch(/^(reset|400)$/);
    expect(calls).toEqual([]);
  });

  it('hands a mode switch and a reload to the source with who asked, their words cleaned and cut short', async () => {
    const res = await fetch(`${base}/listeners/team%20a/mode`, { method: 'POST', headers: json, body: JSON.stringify({ mode: 'allow-all', by: `ops@host\n{"level":60}${'z'.repeat(200)}` }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ listener: 'team a', mode: 'allow-all' });
    expect((await fetch(`${base}/reload`, { method: 'POST', headers: json })).status).toBe(200);
    expect(calls[0]).toMatchObject({ what: 'mode', listener: 'team a', mode: 'allow-all', caller: { address: '127.0.0.1' } });
    const by = calls[0].caller!.by;
    expect(by.startsWith('ops@hostlevel:60')).toBe(true);
    expect(by.length).toBe(100);
    expect(calls[1]).toMatchObject({ what: 'reload', caller: { by: 'unknown' } });
    expect((await fetch(`${base}/listeners/%E0%A4%A/mode`, { method: 'POST', headers: json, body: '{}' })).status).toBe(400);
  });

  it('says what it serves for unknown paths and wrong methods', async () => {
    const missing = await fetch(`${base}/nope`, { headers: auth });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('POST /listeners/{name}/mode');
    expect((await fetch(`${base}/status`, { method: 'POST', headers: json, body: '{}' })).status).toBe(405);
    expect((await fetch(`${base}/reload`, { headers: auth })).status).toBe(405);
    expect((await fetch(`${base}/metrics?worker=9`, { headers: auth })).status).toBe(404);
  });
});

describe('admin server without a token (bound to loopback)', () => {
  it('serves everything without one', async () => {
    const { source } = recordingSource();
    const server = await startAdminServer('127.0.0.1', 0, source, () => undefined, () => {});
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect((await fetch(`${base}/status`)).status).toBe(200);
    expect((await fetch(`${base}/reload`, { method: 'POST', headers: { 'content-type': 'application/json' } })).status).toBe(200);
    server.close();
  });
});
