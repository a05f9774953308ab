/**
 * deploy/k8s/: every manifest parses and validates against the Kubernetes API schemas
 * (kubernetes-models), and its numbers and names agree with the server's own: ports, probe
 * paths, the grace period against the node's stop deadline, the environment variables.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../../scripts/lib/node-process.js';
import { envSchema, loadConfig, stopDeadlineMs } from '../../src/config.js';
import { createMetricsServer } from '../../src/http/metrics-server.js';
import { createHttpServer } from '../../src/http/server.js';

const DIR = path.join(ROOT, 'deploy', 'k8s');
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1 Deployment': Deployment,
  'v1 ConfigMap': ConfigMap,
  'v1 Secret': Secret,
  'v1 Service': Service,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
};

type Manifest = Record<string, any> & { apiVersion: string; kind: string; metadata: { name: string } };

function load(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8')).map((doc) => {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as Manifest;
  });
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const manifests = files.flatMap((file) => load(file).map((m) => ({ file, m })));
const one = (kind: string): Manifest => {
  const found = manifests.filter(({ m }) => m.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!.m;
};
const KNOWN = new Set(Object.keys(envSchema.shape));

const servers: Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));
async function get(server: Server, pathname: string): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${pathname}`);
  await res.arrayBuffer();
  return res.status;
}

describe('the Kubernetes manifests', () => {
  it('every manifest validates against the Kubernetes schema of its kind (and a broken one does not)', () => {
    expect(files.sort()).toEqual(['configmap.yaml', 'deployment.yaml', 'pdb.yaml', 'secret.example.yaml', 'service.yaml']);
    for (const { file, m } of manifests) {
      const Model = MODELS[`${m.apiVersion} ${m.kind}`];
      expect(Model, `${file}: ${m.apiVersion} ${m.kind}`).toBeDefined();
      expect(() => new Model!(m).validate(), file).not.toThrow();
      expect(m.metadata.name, file).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    // The validation is live: a port given as text is refused.
    const broken = structuredClone(one('Deployment'));
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    expect(() => new Deployment(broken).validate()).toThrow(/containerPort/);
  });

  it('kustomization.yaml applies every manifest but the example Secret, with the Deployment image it names', () => {
    const [kustomization] = load('kustomization.yaml');
    expect(kustomization!.kind).toBe('Kustomization');
    expect([...kustomization!.resources].sort()).toEqual(files.filter((f) => f !== 'secret.example.yaml').sort());
    const container = one('Deployment').spec.template.spec.containers[0];
    expect(kustomization!.images.map((i: { name: string }) => i.name)).toContain(container.image);
  });

  it('three replicas, one disruption at a time, a Service without affinity on the game port only; selectors match', () => {
    const deployment = one('Deployment');
    const service = one('Service');
    const pdb = one('PodDisruptionBudget');
    expect(deployment.spec.replicas).toBe(3);
    const labels = deployment.spec.template.metadata.labels as Record<string, string>;
    for (const selector of [deployment.spec.selector.matchLabels, service.spec.selector, pdb.spec.selector.matchLabels]) {
      expect(labels).toMatchObject(selector);
    }
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(service.spec.sessionAffinity ?? 'None').toBe('None');
    const ports = deployment.spec.template.spec.containers[0].ports as Array<{ name: string; containerPort: number }>;
    expect(service.spec.ports.map((p: { targetPort: string }) => p.targetPort)).toEqual(['http']);
    expect(ports.map((p) => p.name)).toContain('http');
  });

  it('ports, probes, grace period and environment agree with the server', async () => {
    const deployment = one('Deployment');
    const configMap = one('ConfigMap');
    const secret = one('Secret');
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    const config = loadConfig({ ...configMap.data, ...secret.stringData });
    const port = (name: string) => container.ports.find((p: { name: string }) => p.name === name).containerPort;

    // Every ConfigMap key and every env var of the container is one src/config.ts reads, and
    // their values pass its validation (loadConfig above would have thrown).
    for (const key of Object.keys(configMap.data)) expect(KNOWN, key).toContain(key);
    for (const { name } of container.env) expect(KNOWN, name).toContain(name);
    expect(container.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }]);

    // The Secret's keys are exactly the variables read from it, each under its own name.
    const fromSecret = container.env.filter((e: any) => e.valueFrom?.secretKeyRef);
    expect(fromSecret.map((e: any) => e.name).sort()).toEqual(['DATABASE_URL', 'REDIS_URL']);
    for (const e of fromSecret) expect(e.valueFrom.secretKeyRef).toEqual({ name: secret.metadata.name, key: e.name });
    expect(Object.keys(secret.stringData).sort()).toEqual(['DATABASE_URL', 'REDIS_URL']);

    // Ports: the game's and the metrics' are the node's.
    expect(port('http')).toBe(config.PORT);
    expect(port('metrics')).toBe(config.METRICS_PORT);
    expect(config.METRICS_HOST).toBe('0.0.0.0'); // or Prometheus could not reach the pod's port
    expect(Number(deployment.spec.template.metadata.annotations['prometheus.io/port'])).toBe(config.METRICS_PORT);

    // The grace period outlasts the node's own bound on stopping, so a drain is never cut short.
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(stopDeadlineMs(config));

    // Probes: on the game port, at the paths the node answers: /readyz turns 503 while the
    // node is not ready (recovering, draining), /healthz does not.
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    const node = (ready: boolean) =>
      createHttpServer({ live: () => true, ready: () => ready, registry: new Registry(), metricsToken: null, staticDir: null, timeouts: { headersMs: 5000, requestMs: 5000 } });
    expect(await get(node(true), container.readinessProbe.httpGet.path)).toBe(200);
    expect(await get(node(false), container.readinessProbe.httpGet.path)).toBe(503);
    expect(await get(node(false), container.livenessProbe.httpGet.path)).toBe(200);
    expect(await get(node(true), '/no-such-probe')).toBe(404);
    const metricsPath = deployment.spec.template.metadata.annotations['prometheus.io/path'];
    expect(await get(createMetricsServer(new Registry(), { headersMs: 5000, requestMs: 5000 }), metricsPath)).toBe(200);

    // Non-root on a read-only root filesystem (the server writes nothing with DATABASE_URL set).
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(container.resources.requests).toBeDefined();
    expect(container.resources.limits.memory).toBeDefined();
  });
});
