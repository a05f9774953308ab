import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, type Frame } from '../support/client.js';
import { cleanup, startTestNode } from '../support/node.js';
import { assertNoSecrets, autoplay } from '../support/play.js';

let node: Awaited<ReturnType<typeof startTestNode>>;

beforeAll(async () => {
  node = await startTestNode();
});
afterAll(async () => {
  await node.drain();
  await cleanup(node.config);
});

/** The value at a JSON pointer of a document. */
function at(doc: unknown, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .reduce<unknown>((n, key) => (n as Record<string, unknown> | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
}

/** Each sequence's last view, as a client holds it. */
function viewsBySeq(client: TestClient): Map<number, unknown> {
  const out = new Map<number, unknown>();
  for (const f of client.frames) if (f.type === 'state' || f.type === 'welcome') out.set(f.seq, f.state);
  return out;
}

/** Two humans (A, B) and two CPUs; each human seat is also held by a second connection of the other kind. */
async function table(lose?: (patch: Frame) => boolean) {
  const a = await TestClient.connect(node.port, { patches: true, lose });
  await a.ok({ type: 'create_room', name: 'Alice', options: { rounds: 1, flip_mode: 'always' } });
  const b = await TestClient.connect(node.port);
  await b.ok({ type: 'join_room', room: a.room, name: 'Bob' });
  const aState = await TestClient.connect(node.port);
  await aState.ok({ type: 'resume', token: a.token });
  const bPatch = await TestClient.connect(node.port, { patches: true });
  await bPatch.ok({ type: 'resume', token: b.token });
  await a.ok({ type: 'add_cpu' });
  await a.ok({ type: 'add_cpu' });
  await a.ok({ type: 'start_game' });
  return { a, b, aState, bPatch };
}

async function finish(clients: TestClient[]): Promise<void> {
  for (const c of clients) await c.waitForState((v) => v.phase === 'game_over', 30_000);
  // The last frames of the change that ended it (presence may follow): settle.
  await new Promise((r) => setTimeout(r, 100));
}

describe('patch frames', () => {
  it('answers hello with the frame kinds it will use; a client that never says hello gets no patch', async () => {
    const probe = await TestClient.connect(node.port);
    probe.sendRaw(JSON.stringify({ type: 'hello', accept: ['patch', 'zstd'] }));
    expect(await probe.waitFor((f) => f.type === 'hello')).toEqual({ type: 'hello', accept: ['patch'] });
    await probe.close();
    const c = await TestClient.connect(node.port);
    // Without hello: whole views only.
    await c.ok({ type: 'create_room', name: 'Carol', options: { rounds: 1 } });
    await c.ok({ type: 'add_cpu' });
    await c.ok({ type: 'start_game' });
    await autoplay(c);
    await finish([c]);
    expect(c.raw.some((f) => f.type === 'patch')).toBe(false);
    await c.close();
  });

  it('a client applying patches holds, at every sequence, exactly the view a state client of the same seat has; no patch carries what the view does not show', async () => {
    const { a, b, aState, bPatch } = await table();
    await Promise.all([autoplay(a, 0), autoplay(b, 1)]);
    await finish([a, b, aState, bPatch]);
    for (const [patching, plain] of [
      [a, aState],
      [bPatch, b],
    ] as const) {
      // Mostly patches: the whole view only when it must be (welcome, the first view after it).
      const kinds = patching.raw.filter((f) => ['welcome', 'state', 'patch'].includes(f.type)).map((f) => f.type);
      expect(kinds.filter((k) => k === 'patch').length).toBeGreaterThan(20);
      expect(kinds.filter((k) => k === 'state').length).toBeLessThanOrEqual(2);
      expect(plain.raw.some((f) => f.type === 'patch')).toBe(false);
      const mine = viewsBySeq(patching);
      const theirs = viewsBySeq(plain);
      let compared = 0;
      for (const [seq, view] of theirs) {
        if (!mine.has(seq)) continue;
        expect(mine.get(seq)).toEqual(view);
        compared++;
      }
      expect(compared).toBeGreaterThan(20);
      expect(patching.view).toEqual(plain.view);
      // Rev rises by one per view sent; each patch names the rev before it as its base.
      let rev = 0;
      for (const f of patching.raw) {
        if (f.type !== 'welcome' && f.type !== 'state' && f.type !== 'patch') continue;
        expect(f.rev).toBe(rev + 1);
        if (f.type === 'patch') expect(f.base).toBe(rev);
        rev = f.rev;
      }
      // What a patch carries is in the view it leads to, at that place (and that view shows no secret).
      for (const f of patching.frames) assertNoSecrets(f, patching.token);
      const applied = patching.frames.filter((f) => f.type === 'state');
      for (const patch of patching.raw.filter((f) => f.type === 'patch')) {
        const after = applied.find((f) => f.rev === patch.rev)!.state;
        for (const op of patch.ops) expect(at(after, op.path)).toEqual(op.value);
      }
    }
  });

  it('a lost patch is noticed (its successor\'s base is not the view held), healed by a sync, and patches go on from there', async () => {
    let patches = 0;
    const { a, b, aState, bPatch } = await table((patch) => patch.seq > 0 && ++patches === 6);
    await Promise.all([autoplay(a, 2), autoplay(b, 3)]);
    await finish([a, b, aState, bPatch]);
    const wire = a.raw.filter((f) => ['welcome', 'state', 'patch'].includes(f.type));
    const lost = wire.findIndex((f) => f.type === 'patch' && f.rev === a.raw.filter((g) => g.type === 'patch')[5]!.rev);
    const healed = wire.findIndex((f, i) => i > lost && f.type === 'state');
    expect(healed).toBeGreaterThan(lost);
    // Between the loss and the healing state, nothing was taken for a view.
    expect(wire.slice(lost + 1, healed).every((f) => f.type === 'patch')).toBe(true);
    expect(wire.slice(healed + 1).some((f) => f.type === 'patch')).toBe(true);
    expect(a.view).toEqual(aState.view);
    const mine = viewsBySeq(a);
    for (const [seq, view] of viewsBySeq(aState)) if (mine.has(seq)) expect(mine.get(seq)).toEqual(view);
  });

  it('a room keeps the views of its latest change only, once its watchers were sent it (an idle room holds one generation)', async () => {
    const c = await TestClient.connect(node.port, { patches: true });
    await c.ok({ type: 'create_room', name: 'Idle', options: { rounds: 1 } });
    await c.ok({ type: 'add_cpu' });
    await c.waitForState((v) => v.players.length === 2);
    const actor = node.runtime.hosted().find((x) => x.code === c.room)!;
    const latest = (actor as unknown as { fanout: { latest: { before: unknown; sharedOps: unknown } | null } }).fanout.latest;
    expect(latest).not.toBeNull();
    expect(latest!.before).toBeNull();
    expect(latest!.sharedOps).toBeNull();
    // The patches still went out: the add_cpu's view came as one.
    expect(c.raw.filter((f) => f.type === 'patch').length).toBeGreaterThan(0);
    await c.close();
  });
});
