import { describe, expect, it } from 'vitest';
import { cpuSplitMarkdown } from '../../bench/cpu-split-report.js';
import { type CpuSplitRound, runMiB } from '../../bench/cpu-split.js';
import { categorize, parsePerfReport, summarizeProfile } from '../../bench/perf-profile.js';

/** Lines as `perf report --no-children -n --sort dso,sym -g none -t '\t'` prints them. */
const REPORT = [
  '# Samples: 1K of event \'cpu-clock:ppp\'',
  '#',
  ' 4.26%  \t 81         \t[kernel.kallsyms]  \t[k] rep_movs_alternative',
  ' 1.68%  \t 32         \tnode               \t[.] Builtins_KeyedLoadIC_Megamorphic',
  ' 1.47%  \t 28         \t[JIT] tid 5975     \t[.] JS:*onRequest file:///work/main/dist/proxy/client-session.js:254:14',
  ' 0.95%  \t 18         \t[JIT] tid 5975     \t[.] JS:*onStreamRead node:internal/stream_base_commons:168:22',
  ' 0.50%  \t 9          \t[JIT] tid 5975     \t[.] JS:~onRequest file:///work/main/dist/proxy/client-session.js:254:14',
  ' 0.40%  \t 7          \tnode               \t[.] v8::internal::Scavenger::ScavengeObject',
  ' 0.30%  \t 6          \tlibc.so.6          \t[.] _int_malloc',
  ' 0.20%  \t 4          \tnode               \t[.] uv__io_poll',
  ' 0.10%  \t 2          \t[JIT] tid 5975     \t[.] JS:*write file:///work/main/node_modules/pino/lib/proto.js:1:1',
  '',
].join('\n');

describe('perf profile of a forwarder', () => {
  it('reads samples per symbol from perf report and skips its comments', () => {
    const rows = parsePerfReport(REPORT);
    expect(rows).toHaveLength(9);
    expect(rows[0]).toEqual({ dso: '[kernel.kallsyms]', symbol: 'rep_movs_alternative', samples: 81 });
    expect(rows[2]).toEqual({ dso: '[JIT] tid 5975', symbol: 'JS:*onRequest file:///work/main/dist/proxy/client-session.js:254:14', samples: 28 });
  });

  it("tells the forwarder's own JavaScript from Node's, its dependencies' and V8's machinery", () => {
    const of = (dso: string, symbol: string) => categorize({ dso, symbol });
    expect(of('[JIT] tid 1', 'JS:*onRequest file:///w/dist/proxy/client-session.js:1:1')).toBe("JavaScript: the forwarder's own code");
    expect(of('[JIT] tid 1', 'JS:*relay file:///w/bench/tcp-relay.ts:1:1')).toBe("JavaScript: the forwarder's own code");
    expect(of('[JIT] tid 1', 'JS:*emit node:events:471:44')).toBe('JavaScript: Node core (streams, net, events, timers)');
    expect(of('[JIT] tid 1', 'JS:*write file:///w/node_modules/pino/lib/proto.js:1:1')).toBe('JavaScript: dependencies');
    expect(of('node', 'v8::internal::Scavenger::ScavengeObject')).toBe('V8 garbage collector');
    expect(of('node', 'Builtins_LdaNamedPropertyHandler')).toBe('V8 interpreter (code not yet compiled)');
    expect(of('node', 'v8::internal::compiler::PipelineImpl::Run')).toBe('V8 compilers');
    expect(of('node', 'Builtins_LoadIC')).toBe('V8 builtins (property access, calls, typed arrays)');
    expect(of('node', 'node::StreamBase::WriteBuffer')).toBe('Node C++ (socket bindings, callbacks into JavaScript)');
    expect(of('node', 'uv__io_poll')).toBe('libuv (event loop)');
    expect(of('node', 'v8::Context::Enter')).toBe('V8 runtime (other)');
    expect(of('libc.so.6', 'malloc')).toBe('libc (malloc, memcpy, syscall stubs)');
    expect(of('[kernel.kallsyms]', 'tcp_sendmsg')).toBe('kernel (socket calls, network stack, page faults)');
  });

  it('sums samples by category and names own functions across tiers, relative to the build', () => {
    const summary = summarizeProfile(parsePerfReport(REPORT));
    expect(summary.categories).toEqual({
      'kernel (socket calls, network stack, page faults)': 81,
      'V8 builtins (property access, calls, typed arrays)': 32,
      "JavaScript: the forwarder's own code": 37,
      'JavaScript: Node core (streams, net, events, timers)': 18,
      'V8 garbage collector': 7,
      'libc (malloc, memcpy, syscall stubs)': 6,
      'libuv (event loop)': 4,
      'JavaScript: dependencies': 2,
    });
    expect(summary.ownFunctions).toEqual({ 'onRequest dist/proxy/client-session.js:254:14': 37 });
  });

  it('reports the CPU per MiB of each category for both forwarders and the difference', () => {
    const options = { recordSize: 100, records: 100_000, rounds: 2, batchSize: 16384, syscalls: false, profile: true };
    const run = (path: CpuSplitRound['path'], phase: CpuSplitRound['phase'], kernel: number, own: number, round: number): CpuSplitRound => ({
      round,
      path,
      phase,
      recordsPerSecond: 1,
      seconds: 1,
      userMsPerMiB: 1,
      systemMsPerMiB: 1,
      profile:
        round === 2
          ? { categories: { 'kernel (socket calls, network stack, page faults)': kernel, "JavaScript: the forwarder's own code": own }, ownFunctions: own ? { 'onRequest dist/x.js:1:1': own } : {} }
          : undefined,
    });
    const samples = [run('relay', 'produce', 0, 0, 1), run('relay', 'produce', 999, 0, 2), run('proxy', 'produce', 999, 999, 2), run('relay', 'consume', 0, 0, 2), run('proxy', 'consume', 0, 0, 2)];
    const mib = runMiB(options);
    const perMiB = (samples: number) => ((samples * 1000) / 999 / mib).toFixed(2);
    const markdown = cpuSplitMarkdown({ ...options, samples });
    expect(markdown).toContain(`| kernel (socket calls, network stack, page faults) | ${perMiB(999)} | ${perMiB(999)} | +0.00 |`);
    expect(markdown).toContain(`| JavaScript: the forwarder's own code | 0.00 | ${perMiB(999)} | +${perMiB(999)} |`);
    expect(markdown).toContain(`| total sampled | ${perMiB(999)} | ${perMiB(1998)} | +${perMiB(999)} |`);
    expect(markdown).toContain(`| \`onRequest dist/x.js:1:1\` | ${perMiB(999)} |`);
    expect(markdown).toContain('during its produce and consume runs of rounds 2 ');
  });
});
