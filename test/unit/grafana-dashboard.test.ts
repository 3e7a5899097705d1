import { readFileSync } from 'node:fs';
import { Histogram, type Metric, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ProxyMetrics } from '../../src/observe/metrics.js';
import { RolesMetrics } from '../../src/roles/roles-metrics.js';
import { SupervisorMetrics } from '../../src/workers/supervisor-metrics.js';

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { expr?: string }[];
  /** A collapsed row holds its panels here. */
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query: string };
}
interface Dashboard {
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/kafka-auth-proxy-dashboard.json', import.meta.url), 'utf8')) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = panels.filter((p) => p.type !== 'row');
const variableQueries = dashboard.templating.list
  .filter((v) => v.type === 'query')
  .map((v) => (typeof v.query === 'string' ? v.query : (v.query?.query ?? '')));

// The proxy's own metrics and prom-client's defaults; other identifiers (functions, labels) have none of these prefixes.
const METRIC = /\b(?:kafka_proxy_|process_|nodejs_)[a-zA-Z0-9_:]*/g;

interface Reference {
  name: string;
  /** The `{...}` right after the name, or '' when there is none. */
  selector: string;
}

/** The metrics an expression reads. Quoted text is blanked first: a name in a label value is not a query of that metric. */
function references(expr: string): Reference[] {
  const masked = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, (s) => s[0] + ' '.repeat(s.length - 2) + s[0]);
  return [...masked.matchAll(METRIC)].map((m) => {
    const end = m.index + m[0].length;
    const close = masked[end] === '{' ? masked.indexOf('}', end) + 1 : end;
    return { name: m[0], selector: expr.slice(end, close) };
  });
}

const registries = [
  new ProxyMetrics(true).registry,
  new SupervisorMetrics(() => ({ starting: 0, ready: 0, draining: 0 }), () => 0).registry,
  rolesRegistry(),
];

/** The roles source's metrics, registered only with a rolesSource. */
function rolesRegistry(): Registry {
  const registry = new Registry();
  new RolesMetrics(registry, () => undefined);
  return registry;
}

/** The registered metric a series belongs to: itself, or the histogram whose _bucket, _sum or _count it is. */
function exported(series: string): Metric | undefined {
  const find = (name: string) => registries.map((r) => r.getSingleMetric(name)).find((m) => m !== undefined);
  const base = /^(.+)_(?:bucket|sum|count)$/.exec(series)?.[1];
  const histogram = base === undefined ? undefined : find(base);
  return find(series) ?? (histogram instanceof Histogram ? histogram : undefined);
}

/** prom-client keeps a metric's label names on the instance, though its typings do not show them. */
function labelNames(metric: Metric): readonly string[] {
  const names = (metric as unknown as { labelNames?: unknown }).labelNames;
  if (!Array.isArray(names)) throw new Error('prom-client no longer exposes labelNames: this test needs another way to read them');
  return names as string[];
}

describe('Grafana dashboard (deploy/grafana)', () => {
  it('finds metric names in expressions, not in label values', () => {
    const expr = 'histogram_quantile(0.9, sum by (le) (rate(kafka_proxy_x_bucket{a="nodejs_y", b=~\'process_z\'}[5m]))) / process_w';
    expect(references(expr)).toEqual([
      { name: 'kafka_proxy_x_bucket', selector: '{a="nodejs_y", b=~\'process_z\'}' },
      { name: 'process_w', selector: '' },
    ]);
  });

  it('has unique panel ids and a query on every panel', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const empty = queryPanels.filter((p) => !p.targets?.length || p.targets.some((t) => !t.expr?.trim()));
    expect(empty.map((p) => p.title)).toEqual([]);
  });

  it('queries only metrics the proxy exports', () => {
    const names = new Set([...queryPanels.flatMap((p) => p.targets ?? []).map((t) => t.expr ?? ''), ...variableQueries].flatMap((e) => references(e).map((r) => r.name)));
    // Guards against a tokenizer that finds nothing, which would pass vacuously.
    expect(names).toContain('kafka_proxy_open_connections');
    expect([...names].filter((n) => exported(n) === undefined).sort()).toEqual([]);
  });

  it('filters every panel query on instance, and on listener where the metric has it, with rates over $__rate_interval', () => {
    const problems: string[] = [];
    for (const panel of queryPanels) {
      for (const { expr = '' } of panel.targets ?? []) {
        for (const { name, selector } of references(expr)) {
          const metric = exported(name);
          // Unknown names are the previous test's failure.
          if (metric === undefined) continue;
          if (!selector.includes('instance=~"$instance"')) problems.push(`${panel.title}: ${name} without instance`);
          if (labelNames(metric).includes('listener') && !selector.includes('listener=~"$listener')) problems.push(`${panel.title}: ${name} without listener`);
        }
        for (const [, window] of expr.matchAll(/\brate\([^[]*\[([^\]]*)\]/g)) {
          if (window !== '$__rate_interval') problems.push(`${panel.title}: rate over [${window}]`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('Prometheus scrape example (deploy/prometheus)', () => {
  it('scrapes /metrics on the admin port every 15 s', () => {
    const config = parse(readFileSync(new URL('../../deploy/prometheus/prometheus.yml', import.meta.url), 'utf8')) as {
      scrape_configs: { job_name: string; scrape_interval: string; metrics_path: string; static_configs: { targets: string[] }[] }[];
    };
    const job = config.scrape_configs.find((j) => j.job_name === 'kafka-auth-proxy');
    expect(job).toMatchObject({ scrape_interval: '15s', metrics_path: '/metrics' });
    const targets = job!.static_configs.flatMap((s) => s.targets);
    expect(targets.length).toBeGreaterThan(0);
    // 9464: the admin port in README's configuration example.
    for (const target of targets) expect(target).toMatch(/:9464$/);
  });
});
