/**
 * The observability that ships with the node: the Grafana dashboard and the Prometheus alert
 * rules use only metrics a running node exposes (their PromQL parsed with Prometheus's own
 * grammar), the rule file has the Prometheus shape (and promtool checks and unit-tests it),
 * every golf_ metric is documented in the README, the metrics move when games are played, and
 * every log line about a room names the room, its game and the node.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parser } from '@prometheus-io/lezer-promql';
import { pino } from 'pino';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ROOT } from '../../scripts/lib/node-process.js';
import { startNode, type RunningNode } from '../../src/node.js';
import { TestClient } from '../support/client.js';
import { cleanup, testConfig } from '../support/node.js';
import { autoplay } from '../support/play.js';

const DASHBOARD = path.join(ROOT, 'deploy', 'grafana', 'golf-runtime.json');
const ALERTS = path.join(ROOT, 'deploy', 'prometheus', 'alerts.yml');
const ALERT_TESTS = path.join(ROOT, 'deploy', 'prometheus', 'alerts.test.yml');
/** Series Prometheus makes itself for every target, not found in any /metrics. */
const SYNTHETIC = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/** Metric names a /metrics text declares, with the series names of histograms and summaries. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
    const [, name, type] = match as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

/** The metric names a PromQL expression selects; throws where Prometheus's grammar refuses it. */
function promqlMetrics(expr: string): string[] {
  const tree = parser.parse(expr);
  const names: string[] = [];
  const errors: number[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(node.from);
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        if (id) names.push(expr.slice(id.from, id.to));
      }
    },
  });
  if (errors.length > 0) throw new Error(`PromQL syntax error at ${errors[0]} in: ${expr}`);
  return names;
}

/** Grafana's own variables as Prometheus would receive them once Grafana has filled them in. */
const grafanaToPromql = (expr: string) => expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m');

const duration = z.string().regex(/^(\d+(ms|s|m|h|d|w|y))+$/, 'a Prometheus duration');
const labels = z.record(z.string().regex(/^[A-Za-z_]\w*$/), z.string());
const ruleFile = z
  .object({
    groups: z
      .array(
        z
          .object({
            name: z.string().min(1),
            interval: duration.optional(),
            limit: z.number().int().nonnegative().optional(),
            rules: z
              .array(
                z.union([
                  z.object({ alert: z.string().regex(/^[A-Za-z_]\w*$/), expr: z.string().min(1), for: duration.optional(), keep_firing_for: duration.optional(), labels: labels.optional(), annotations: z.record(z.string(), z.string()).optional() }).strict(),
                  z.object({ record: z.string().regex(/^[a-zA-Z_:][\w:]*$/), expr: z.string().min(1), labels: labels.optional() }).strict(),
                ]),
              )
              .min(1),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}

const config = testConfig();
const logLines: Array<Record<string, unknown>> = [];
let node: RunningNode;
let client: TestClient;
let metricsText = '';
let exposed = new Set<string>();

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  node = await startNode(config, pino({ level: 'debug', base: { pid: process.pid } }, sink));
  client = await TestClient.connect(node.port);
  await client.ok({ type: 'create_room', name: 'Ada', options: { rounds: 1, initial_flips: 2 } });
  await client.ok({ type: 'add_cpu', profile: 'Priya' });
  await client.ok({ type: 'start_game' });
  await autoplay(client);
  metricsText = await (await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`)).text();
  exposed = exposedNames(metricsText);
}, 120_000);

afterAll(async () => {
  await client?.close();
  await node?.drain();
  await cleanup(config);
});

const sample = (series: string): number => {
  const line = metricsText.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no sample ${series}`);
  return Number(line.slice(series.length + 1));
};

describe('observability', () => {
  it('the node exposes the runtime metrics, and they moved with the game played', () => {
    expect(sample('golf_node_ready')).toBe(1);
    expect(sample('golf_commands_total{outcome="applied"}')).toBeGreaterThan(20);
    expect(sample('golf_events_appended_total')).toBeGreaterThan(20);
    expect(sample('golf_append_ms_count')).toBeGreaterThan(0);
    expect(sample('golf_append_batch_games_count')).toBe(sample('golf_append_ms_count'));
    expect(sample('golf_command_ms_count')).toBeGreaterThan(0);
    expect(sample('golf_rooms_active')).toBe(1);
    // The host still watches the finished room.
    expect(sample('golf_room_watchers')).toBe(1);
    expect(sample('golf_ws_connections')).toBe(1);
    for (const name of ['golf_rooms_adopted_total', 'golf_appends_fenced_total', 'golf_rooms_fenced_total', 'golf_drains_total', 'golf_room_recovery_failures_total']) expect(sample(name)).toBe(0);
  });

  it('every golf_ metric is documented in the README, and the README documents no metric that does not exist', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const documented = new Set([...readme.matchAll(/^\| `((?:golf|nodejs|process)_\w+)`/gm)].map((m) => m[1]!));
    const golf = [...metricsText.matchAll(/^# TYPE (golf_\w+) /gm)].map((m) => m[1]!);
    expect(golf.length).toBeGreaterThan(15);
    for (const name of golf) expect(documented, `${name} missing from the README`).toContain(name);
    for (const name of documented) expect(exposed, `${name} is documented but not exposed`).toContain(name);
  });

  it('alert rules: YAML of the Prometheus rule-file shape; each has a severity and a summary; each expression parses and uses exposed metrics', () => {
    const file = ruleFile.parse(parseYaml(readFileSync(ALERTS, 'utf8')));
    const alerts = file.groups.flatMap((g) => g.rules).filter((r): r is Extract<typeof r, { alert: string }> => 'alert' in r);
    expect(new Set(alerts.map((a) => a.alert)).size).toBe(alerts.length);
    expect(alerts.map((a) => a.alert)).toEqual(expect.arrayContaining(['GolfNoNodeReady', 'GolfNodeDown', 'GolfCommandsFailing', 'GolfAppendLatencyHigh', 'GolfRoomsFencedRate']));
    for (const alert of alerts) {
      expect(['critical', 'warning'], alert.alert).toContain(alert.labels?.severity);
      expect(alert.annotations?.summary, alert.alert).toBeTruthy();
      const names = promqlMetrics(alert.expr);
      expect(names.length, alert.alert).toBeGreaterThan(0);
      for (const name of names) if (!SYNTHETIC.has(name)) expect(exposed, `${alert.alert} uses ${name}`).toContain(name);
    }
  });

  it('promtool accepts the rules and their unit tests pass (alerts fire when they should, and only then)', () => {
    const promtool = process.env.PROMTOOL ?? 'promtool';
    const check = spawnSync(promtool, ['check', 'rules', ALERTS], { encoding: 'utf8' });
    if (check.error) throw new Error(`${promtool} not found: .ci/run installs it (from Debian's prometheus package), or set PROMTOOL`);
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const tests = spawnSync(promtool, ['test', 'rules', path.basename(ALERT_TESTS)], { encoding: 'utf8', cwd: path.dirname(ALERT_TESTS) });
    expect(tests.status, tests.stdout + tests.stderr).toBe(0);
    expect(tests.stdout).toMatch(/SUCCESS/);
  });

  it('the Grafana dashboard: every query parses and uses exposed metrics; it covers rooms, players, moves, latencies, failovers, fencing and drains', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; panels: Panel[]; templating: { list: Array<{ name: string; definition?: string }> } };
    expect(dashboard.uid).toBe('golf-runtime');
    const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
    const used = new Set<string>();
    for (const panel of panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        for (const name of promqlMetrics(grafanaToPromql(target.expr))) {
          expect(exposed, `panel "${panel.title}" uses ${name}`).toContain(name);
          used.add(name);
        }
      }
    }
    const instances = dashboard.templating.list.find((v) => v.name === 'instance')!;
    expect(exposed).toContain(/label_values\((\w+),/.exec(instances.definition ?? '')?.[1]);
    for (const name of ['golf_rooms_active', 'golf_room_watchers', 'golf_commands_total', 'golf_command_ms_bucket', 'golf_append_ms_bucket', 'golf_append_batch_games_bucket', 'golf_rooms_adopted_total', 'golf_adoption_ms_bucket', 'golf_rooms_fenced_total', 'golf_appends_fenced_total', 'golf_drains_total']) {
      expect(used, `the dashboard shows ${name}`).toContain(name);
    }
    expect(panels.map((p) => p.title)).toEqual(expect.arrayContaining(['Rooms per node', 'Players per node', 'Moves/s', 'Command latency', 'Append latency', 'Append batch size', 'Failover duration', 'Fenced', 'Drains']));
  });

  it('every log line about a room names the room, its game and the node', async () => {
    await node.drain();
    const aboutRooms = logLines.filter((line) => 'room' in line);
    // At debug level the drain logs each room it stops.
    const stopped = aboutRooms.filter((line) => line.msg === 'room stopped on this node');
    expect(stopped).toHaveLength(1);
    // Stopped by the drain; on a loaded machine this in-process node (its event loop shared with
    // the test's) may lose the lease first, a stop logged the same way (seen in CI twice).
    expect(stopped[0]).toMatchObject({ room: client.room, game_id: client.view.game_id, node_id: config.NODE_ID, reason: expect.stringMatching(/^(draining|lease lost)/) });
    for (const line of aboutRooms) expect(line, String(line.msg)).toMatchObject({ room: expect.any(String), game_id: expect.any(String), node_id: config.NODE_ID });
    // Every line names the node (bound once by startNode).
    expect(logLines.filter((line) => line.node_id !== config.NODE_ID)).toEqual([]);
  });
});
