/**
 * Adoption of a dead node's rooms by a real node process, with PostgreSQL misbehaving at the
 * worst moment (issue 9):
 * - finding 1: a read fails after the adopter took the leases: it must give them back (and take
 *   the rooms again later), not renew them for rooms it does not host;
 * - finding 3: the old owner commits a move between the adopter's listing of the game and its
 *   epoch claim: the room must come back with that move, not one move behind.
 */
import { afterAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { spawnNode, type NodeProcess } from '../../scripts/lib/node-process.js';
import type { Config } from '../../src/config.js';
import { TestClient } from '../support/client.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { cleanup, DATABASE_URL, processEnv, REDIS_URL, testConfig } from '../support/node.js';
import { playUntil } from '../support/play.js';
import { sleep } from '../support/steady-player.js';
import { freePort } from '../support/throwaway.js';

const configs: Config[] = [];
const proxies: FaultProxy[] = [];
const procs: NodeProcess[] = [];
afterAll(async () => {
  for (const proc of procs) if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
  for (const proxy of proxies) await proxy.close();
  for (const config of configs) await cleanup(config);
});

async function node(config: Config, name: string, overrides: Record<string, string> = {}): Promise<NodeProcess> {
  const proc = await spawnNode(
    processEnv(config, await freePort(), { NODE_ID: `${config.REDIS_PREFIX}${name}`, CPU_THINK_MS: '20', ROUND_PAUSE_MS: '600000', DISCONNECT_GRACE_MS: '600000', LOG_LEVEL: 'info', ...overrides }),
  );
  procs.push(proc);
  return proc;
}

async function proxyToPostgres(): Promise<FaultProxy> {
  const proxy = await FaultProxy.start(Number(new URL(DATABASE_URL).port || 5432));
  proxies.push(proxy);
  return proxy;
}

/** A room on `port` with a human host and one CPU, played until it is the host's turn to draw. */
async function tableAtDraw(port: number): Promise<TestClient> {
  const host = await TestClient.connect(port);
  await host.ok({ type: 'create_room', name: 'Host', options: { rounds: 3, initial_flips: 0 } });
  await host.ok({ type: 'add_cpu', profile: 'Sofia' });
  await host.ok({ type: 'start_game' });
  await playUntil(host, (v) => v.must === 'draw' && host.seq >= 6);
  return host;
}

/** Resumes the seat on `port` until it is acked (or the time is up); returns the welcome, or the last refusal. */
async function resumeUntilAcked(port: number, token: string, timeoutMs: number): Promise<{ client: TestClient | null; refusals: string[]; ms: number }> {
  const started = Date.now();
  const refusals: string[] = [];
  while (Date.now() - started < timeoutMs) {
    const client = await TestClient.connect(port);
    const reply = await client.request({ type: 'resume', token }).catch((e: Error) => ({ type: 'error', code: 'closed', message: e.message }));
    if (reply.type === 'ack') return { client, refusals, ms: Date.now() - started };
    refusals.push(`${reply.code}: ${reply.message}`);
    client.terminate();
    await sleep(300);
  }
  return { client: null, refusals, ms: Date.now() - started };
}

describe('adopting a dead node’s rooms while PostgreSQL misbehaves', () => {
  it('a read that fails after the leases were taken gives them back: the room is played again soon (finding 1)', async () => {
    const config = testConfig();
    configs.push(config);
    const pgLink = await proxyToPostgres();
    const owner = await node(config, 'owner');
    const adopter = await node(config, 'adopter', { DATABASE_URL: pgLink.url(DATABASE_URL) });
    const host = await tableAtDraw(owner.port);
    const sql = postgres(DATABASE_URL, { max: 2, onnotice: () => {}, connection: { search_path: config.DATABASE_SCHEMA } });
    try {
      // The game's row is locked, so that the adopter's epoch claim waits: the adopter holds the
      // lease by then, and its link to PostgreSQL is cut while it waits.
      let unlock!: () => void;
      const unlocked = new Promise<void>((resolve) => (unlock = resolve));
      let lockerPid = 0;
      const locking = sql.begin(async (tx) => {
        lockerPid = (await tx<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid;
        await tx`select 1 from games where room_code = ${host.room} for update`;
        await unlocked;
      });
      while (!lockerPid) await sleep(10);
      host.terminate();
      owner.child.kill('SIGKILL');
      await owner.exited;
      const killedAt = Date.now();
      let blocked = false;
      while (!blocked && Date.now() - killedAt < 20_000) {
        const [row] = await sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where ${lockerPid} = any(pg_blocking_pids(pid))`;
        blocked = row!.n > 0;
        if (!blocked) await sleep(20);
      }
      expect(blocked, 'the adopter reached its epoch claim').toBe(true);
      const claimAfter = Date.now() - killedAt;
      pgLink.cut();
      await sleep(300);
      unlock();
      await locking;
      pgLink.heal();
      const back = await resumeUntilAcked(adopter.port, host.token, 20_000);
      process.stdout.write(
        `adoption read failed (claim cut ${claimAfter} ms after the crash): resumed after ${back.ms} ms` +
          `${back.client ? '' : ' (never)'}; refusals ${back.refusals.length}${back.refusals.length ? `, last: ${back.refusals.at(-1)}` : ''}\n`,
      );
      expect(back.client, back.refusals.at(-1)).not.toBeNull();
      // Playable, not just visible: the move is acked.
      const reply = await back.client!.request({ type: 'draw', source: 'deck' });
      expect(reply.type).toBe('ack');
      await back.client!.close();
    } finally {
      await sql.end();
    }
  }, 60_000);

  it('a move the old owner commits while the adopter takes the room is in the adopted room (finding 3)', async () => {
    const config = testConfig();
    configs.push(config);
    const ownerLink = await proxyToPostgres();
    const adopterLink = await proxyToPostgres();
    const owner = await node(config, 'owner', { DATABASE_URL: ownerLink.url(DATABASE_URL) });
    const adopter = await node(config, 'adopter', { DATABASE_URL: adopterLink.url(DATABASE_URL) });
    const redis = new Redis(REDIS_URL);
    const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {}, connection: { search_path: config.DATABASE_SCHEMA } });
    try {
      const host = await tableAtDraw(owner.port);
      const seqBefore = host.seq;
      const leaseKey = `${config.REDIS_PREFIX}room:${host.room}:lease`;
      const ownersLease = await redis.get(leaseKey);
      expect(ownersLease).not.toBeNull();
      // The owner's append of the draw waits on the wire; then the owner stops (a long pause).
      ownerLink.hold();
      const drawn = host.request({ type: 'draw', source: 'deck' }, 'the-draw');
      await sleep(300);
      owner.child.kill('SIGSTOP');
      // The adopter's queries take a while: between its listing of the game and its claim, the
      // held append reaches PostgreSQL (the owner's epoch is still the game's).
      adopterLink.delay(500);
      const stoppedAt = Date.now();
      let taken = false;
      while (!taken && Date.now() - stoppedAt < 30_000) {
        const value = await redis.get(leaseKey);
        taken = value !== null && value !== ownersLease;
        if (!taken) await sleep(10);
      }
      expect(taken, 'the adopter took the lease').toBe(true);
      ownerLink.heal();
      let committed = 0;
      for (let i = 0; i < 100 && committed <= seqBefore; i++) {
        committed = (await sql<{ last_seq: number }[]>`select last_seq from games where room_code = ${host.room}`)[0]!.last_seq;
        if (committed <= seqBefore) await sleep(10);
      }
      // Usually the held append lands before the adopter's claim (finding 3's case). On a loaded
      // machine (the full suite) the test can see the lease taken late and the claim win: the
      // append is then fenced. Either way the adopted room must hold exactly what PostgreSQL
      // committed, and the draw, retried by its id, must be applied exactly once.
      expect([seqBefore, seqBefore + 1]).toContain(committed);
      const landed = committed === seqBefore + 1;
      owner.child.kill('SIGCONT');
      // The owner acks the draw it committed, or (its append having outlived the store bound on
      // the held link) says the outcome is unknown: never that nothing changed.
      const answer = await drawn;
      if (answer.type === 'ack') expect(landed && answer.seq === seqBefore + 1).toBe(true);
      else expect(answer).toMatchObject({ type: 'error', code: 'unavailable', message: expect.stringMatching(/unknown/) });
      adopterLink.delay(0);
      const back = await resumeUntilAcked(adopter.port, host.token, 20_000);
      expect(back.client, back.refusals.at(-1)).not.toBeNull();
      const welcome = back.client!.frames.find((f) => f.type === 'welcome')!;
      const last_seq = (await sql<{ last_seq: number }[]>`select last_seq from games where room_code = ${host.room}`)[0]!.last_seq;
      process.stdout.write(
        `old owner ${landed ? 'committed' : 'was fenced at'} seq ${committed} during adoption (lease taken ${Date.now() - stoppedAt} ms after the pause): ` +
          `adopted room shows seq ${welcome.seq} (must=${welcome.state.must}); PostgreSQL last_seq ${last_seq}\n`,
      );
      expect(welcome.seq).toBe(committed);
      expect(welcome.state.drawn_card !== null).toBe(landed);
      // The draw retried by its id: acknowledged at the sequence it was applied at, once.
      expect(await back.client!.request({ type: 'draw', source: 'deck' }, 'the-draw')).toMatchObject({ type: 'ack', seq: seqBefore + 1 });
      // And play goes on from there: the drawn card is discarded, on the adopter, not refused.
      expect(await back.client!.request({ type: 'discard' })).toMatchObject({ type: 'ack', seq: seqBefore + 2 });
      await back.client!.close();
      host.terminate();
    } finally {
      if (owner.child.exitCode === null) owner.child.kill('SIGCONT');
      redis.disconnect();
      await sql.end();
    }
  }, 60_000);
});
