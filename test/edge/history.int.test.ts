/**
 * History over the wire: offsets and epochs on delivered events, paging,
 * offset resume with recovery, time bounds, retention and channel lifetimes.
 *
 * Time bounds are tested without sleeping: the server stamps history with its
 * own clock when it routes a frame, and `ping` reports that clock. A ping
 * after a publish bounds the publish from above; pinging until the reported
 * time moves on separates two batches by at least one millisecond.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigKey } from '../../src/config/schema.js';
import type { HistoryResult as HistoryPage } from '../../src/client/types.js';
import type { Envelope } from '../../src/protocol/envelope.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** The history command's result: the page the SDK reads, and the channel it came from. */
interface HistoryResult extends HistoryPage {
  room: string;
  channel: string;
}

const servers: TestServer[] = [];
const open: RawClient[] = [];

async function start(overrides: Partial<Record<ConfigKey, unknown>> = {}): Promise<TestServer> {
  const srv = await startServer(overrides);
  servers.push(srv);
  return srv;
}

async function connect(srv: TestServer): Promise<RawClient> {
  const { client } = await RawClient.connect(srv.url);
  open.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const ROOM = 'lobby';
const CHANNEL = 'general';

function publish(c: RawClient, ids: readonly string[], channel = CHANNEL): void {
  for (const id of ids) c.send({ type: 'event', id, room: ROOM, channel, payload: { id } });
}

function history(c: RawClient, params: Record<string, unknown> = {}, channel = CHANNEL): Promise<HistoryResult> {
  return c.ok<HistoryResult>('history', { room: ROOM, channel, ...params });
}

const ids = (r: HistoryResult) => r.messages.map((m) => m.id);
const offsets = (r: HistoryResult) => r.messages.map((m) => m.metadata?.['offset']);

/** The server clock (ms) as of a round trip: later than everything sent before. */
async function serverNow(c: RawClient): Promise<number> {
  return Date.parse((await c.ok('ping'))['server_time'] as string);
}

/** Round trips until the server clock reads later than `t`. */
async function clockPast(c: RawClient, t: number): Promise<number> {
  let now = await serverNow(c);
  while (now <= t) now = await serverNow(c);
  return now;
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('offsets and epochs', () => {
  it('delivered events carry offset and epoch, and history returns the same envelopes oldest first', async () => {
    const srv = await start();
    const a = await connect(srv);
    const b = await connect(srv);
    const { epoch } = await a.ok<{ epoch: string }>('join_channel', { room: ROOM, channel: CHANNEL });
    await b.ok('join_channel', { room: ROOM, channel: CHANNEL });

    publish(a, ['m1', 'm2', 'm3']);
    b.send({ type: 'event', id: 'm4', room: ROOM, channel: CHANNEL, payload: { from: 'b' }, metadata: { tag: 'x' } });
    await a.barrier();
    const delivered: Envelope[] = [];
    for (const id of ['m1', 'm2', 'm3']) delivered.push(await b.next((e) => e.type === 'event' && e.id === id));
    delivered.push(await a.next((e) => e.type === 'event' && e.id === 'm4'));

    expect(delivered.map((e) => e.metadata)).toEqual([
      { offset: 1, epoch },
      { offset: 2, epoch },
      { offset: 3, epoch },
      { tag: 'x', offset: 4, epoch },
    ]);
    const page = await history(a);
    expect(page.messages).toEqual(delivered);
    expect(page).toMatchObject({ epoch, recovered: true, earliest_offset: 1, latest_offset: 4, has_more: false });
  });

  it('an empty channel reports offset 0 and keeps its epoch until the first publish', async () => {
    const srv = await start();
    const a = await connect(srv);
    const joined = await a.ok<{ offset: number; epoch: string }>('join_channel', { room: ROOM, channel: CHANNEL });
    expect(joined.offset).toBe(0);
    const empty = await history(a);
    expect(empty).toMatchObject({ messages: [], epoch: joined.epoch, latest_offset: 0, earliest_offset: 1, has_more: false });
    publish(a, ['first']);
    await a.barrier();
    expect((await history(a)).messages[0]?.metadata).toEqual({ offset: 1, epoch: joined.epoch });
  });
});

describe('paging', () => {
  it('limit caps the page and has_more says whether more matched', async () => {
    const srv = await start();
    const a = await connect(srv);
    await a.ok('join_channel', { room: ROOM, channel: CHANNEL });
    publish(a, ['m1', 'm2', 'm3', 'm4', 'm5']);
    await a.barrier();

    const first = await history(a, { limit: 2 });
    expect(ids(first)).toEqual(['m1', 'm2']);
    expect(first.has_more).toBe(true);
    expect(first.latest_offset).toBe(5);

    const exact = await history(a, { limit: 5 });
    expect(ids(exact)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(exact.has_more).toBe(false);
  });

  it('pages through with since_offset until has_more is false', async () => {
    const srv = await start();
    const a = await connect(srv);
    await a.ok('join_channel', { room: ROOM, channel: CHANNEL });
    publish(a, ['m1', 'm2', 'm3', 'm4', 'm5']);
    await a.barrier();

    const seen: string[] = [];
    let since = 0;
    let pages = 0;
    for (;;) {
      const page = await history(a, { since_offset: since, limit: 2 });
      pages++;
      seen.push(...ids(page));
      expect(page.recovered).toBe(true);
      if (!page.has_more) break;
      since = page.messages.at(-1)!.metadata!['offset'] as number;
    }
    expect(seen).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(pages).toBe(3);
  });

  it('returns at most 100 messages when no limit is given', async () => {
    const srv = await start();
    const a = await connect(srv);
    await a.ok('join_channel', { room: ROOM, channel: CHANNEL });
    publish(a, Array.from({ length: 101 }, (_, i) => `m${i + 1}`));
    await a.barrier();
    const page = await history(a);
    expect(page.messages).toHaveLength(100);
    expect(page.has_more).toBe(true);
    expect(offsets(page).at(-1)).toBe(100);
  });
});

describe('since_offset resume', () => {
  it('returns only what came after the offset, recovered, in the same epoch', async () => {
    const srv = await start();
    const a = await connect(srv);
    const b = await connect(srv);
    await a.ok('join_channel', { room: ROOM, channel: CHANNEL });
    const { epoch } = await b.ok<{ epoch: string }>('join_channel', { room: ROOM, channel: CHANNEL });
    publish(a, ['m1', 'm2']);
    const last = await b.next((e) => e.type === 'event' && e.id === 'm2');
    const seenOffset = last.metadata?.['offset'] as number;

    // b "misses" the next three, then resumes from what it saw.
    publish(a, ['m3', 'm4', 'm5']);
    await a.barrier();
    const resumed = await history(b, { since_offset: seenOffset, epoch });
    expect(ids(resumed)).toEqual(['m3', 'm4', 'm5']);
    expect(offsets(resumed)).toEqual([3, 4, 5]);
    expect(resumed).toMatchObject({ recovered: true, epoch, has_more: false });
  });

  it('caught up with the matching epoch: recovered and nothing to replay', async () => {
    const srv = await start();
    const a = await connect(srv);
    const { epoch } = await a.ok<{ epoch: string }>('join_channel', { room: ROOM, channel: CHANNEL });
    publish(a, ['m1', 'm2', 'm3']);
    await a.barrier();
    const page = await history(a, { since_offset: 3, epoch });
    expect(page).toMatchObject({ messages: [], recovered: true, has_more: false, latest_offset: 3, epoch });
  });

  it('a wrong epoch is not recovered and serves from the oldest retained message', async () => {
    const srv = await start();
    const a = await connect(srv);
    const { epoch } = await a.ok<{ epoch: string }>('join_channel', { room: ROOM, channel: CHANNEL });
    publish(a, ['m1', 'm2', 'm3']);
    await a.barrier();
    const page = await history(a, { since_offset: 2, epoch: 'not-this-epoch' });
    expect(page.recovered).toBe(false);
    expect(page.epoch).toBe(epoch);
    expect(ids(page)).toEqual(['m1', 'm2', 'm3']);
  });

  it('an offset beyond the newest is not recovered', async () => {
    const srv = await start();
    const a = await connect(srv);
    const { epoch } = await a.ok<{ epoch: string }>('join_channel', { room: ROOM, channel: CHANNEL });
    publish(a, ['m1', 'm2']);
    await a.barrier();
    const page = await history(a, { since_offset: 10, epoch });
    expect(page.recovered).toBe(false);
    expect(ids(page)).toEqual(['m1', 'm2']);
  });
});

describe('retention', () => {
  it('an evicted offset is not recovered; an offset whose successors are retained is', async () => {
    const srv = await start({ historyMaxMessages: 3 });
    const a = await connect(srv);
    const { epoch } = await a.ok<{ epoch: string }>('join_channel', { room: ROOM, channel: CHANNEL });
    publish(a, ['m1', 'm2', 'm3', 'm4', 'm5']);
    await a.barrier();

    const all = await history(a);
    expect(ids(all)).toEqual(['m3', 'm4', 'm5']);
    expect(all).toMatchObject({ earliest_offset: 3, latest_offset: 5, recovered: true });

    // m2 (after offset 1) is gone: the gap cannot be filled.
    const lost = await history(a, { since_offset: 1, epoch });
    expect(lost.recovered).toBe(false);
    expect(offsets(lost)).toEqual([3, 4, 5]);

    // Everything after offset 2 is still there.
    const kept = await history(a, { since_offset: 2, epoch });
    expect(kept.recovered).toBe(true);
    expect(offsets(kept)).toEqual([3, 4, 5]);
  });
});

describe('time bounds', () => {
  it('since and until select by server receive time', async () => {
    const srv = await start();
    const a = await connect(srv);
    await a.ok('join_channel', { room: ROOM, channel: CHANNEL });

    const t0 = await serverNow(a);
    publish(a, ['b1-1', 'b1-2']);
    const t1 = await serverNow(a); // batch 1 was stamped at or before t1
    await clockPast(a, t1);
    publish(a, ['b2-1', 'b2-2']); // stamped after t1
    const t2 = await serverNow(a);
    await clockPast(a, t2);
    publish(a, ['b3-1']); // stamped after t2
    const t3 = await serverNow(a);

    expect(ids(await history(a, { since: iso(t0), until: iso(t3) }))).toEqual(['b1-1', 'b1-2', 'b2-1', 'b2-2', 'b3-1']);
    expect(ids(await history(a, { until: iso(t1) }))).toEqual(['b1-1', 'b1-2']);
    expect(ids(await history(a, { since: iso(t1 + 1) }))).toEqual(['b2-1', 'b2-2', 'b3-1']);
    expect(ids(await history(a, { since: iso(t1 + 1), until: iso(t2) }))).toEqual(['b2-1', 'b2-2']);
    expect(ids(await history(a, { since: iso(t2 + 1) }))).toEqual(['b3-1']);
    expect(ids(await history(a, { since: iso(t3 + 1) }))).toEqual([]);
    expect(ids(await history(a, { until: iso(t0 - 1) }))).toEqual([]);

    // Combined with an offset and a limit.
    const page = await history(a, { since: iso(t1 + 1), since_offset: 3, limit: 1 });
    expect(ids(page)).toEqual(['b2-2']);
    expect(page.has_more).toBe(true);
  });

  it('both bounds are inclusive', async () => {
    const srv = await start();
    const a = await connect(srv);
    // Pin a message to an exact millisecond: a ping just before and just after
    // it that report the same server time leave it no other stamp. Each try
    // uses a fresh channel so a try that straddled a millisecond leaves no trace.
    for (let attempt = 0; attempt < 100; attempt++) {
      const channel = `exact-${attempt}`;
      await a.ok('join_channel', { room: ROOM, channel });
      const before = a.ok('ping');
      publish(a, ['pinned'], channel);
      const after = a.ok('ping');
      const [p0, p1] = (await Promise.all([before, after])).map((r) => Date.parse(r['server_time'] as string));
      if (p0 !== p1) continue;
      const t = p0!;
      expect(ids(await history(a, { since: iso(t) }, channel))).toEqual(['pinned']);
      expect(ids(await history(a, { until: iso(t) }, channel))).toEqual(['pinned']);
      expect(ids(await history(a, { since: iso(t), until: iso(t) }, channel))).toEqual(['pinned']);
      expect(ids(await history(a, { since: iso(t + 1) }, channel))).toEqual([]);
      expect(ids(await history(a, { until: iso(t - 1) }, channel))).toEqual([]);
      return;
    }
    throw new Error('could not pin a publish to one millisecond in 100 tries');
  });

  it('accepts timestamps with a zone offset', async () => {
    const srv = await start();
    const a = await connect(srv);
    await a.ok('join_channel', { room: ROOM, channel: CHANNEL });
    publish(a, ['m1']);
    const t = await serverNow(a);
    // The same instant written as +02:00 local time.
    const local = new Date(t + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    expect(ids(await history(a, { until: local }))).toEqual(['m1']);
    expect(ids(await history(a, { since: new Date(t + 1 + 2 * 3600_000).toISOString().replace('Z', '+02:00') }))).toEqual([]);
  });
});

describe('channel lifetime', () => {
  it('deleting and recreating a channel starts a new epoch at offset 1', async () => {
    const srv = await start();
    const a = await connect(srv);
    const old = await a.ok<{ epoch: string }>('join_channel', { room: ROOM, channel: CHANNEL });
    publish(a, ['old-1', 'old-2']);
    await a.barrier();
    await a.ok('delete_channel', { room: ROOM, channel: CHANNEL });

    const fresh = await a.ok<{ epoch: string; offset: number }>('join_channel', { room: ROOM, channel: CHANNEL });
    expect(fresh.offset).toBe(0);
    expect(fresh.epoch).not.toBe(old.epoch);

    a.send({ type: 'event', id: 'new-1', room: ROOM, channel: CHANNEL, payload: {}, metadata: { echo: true } });
    const echoed = await a.next((e) => e.type === 'event' && e.id === 'new-1');
    expect(echoed.metadata).toEqual({ offset: 1, epoch: fresh.epoch });

    const page = await history(a);
    expect(ids(page)).toEqual(['new-1']);
    expect(page.epoch).toBe(fresh.epoch);
    // A resume point from the old life is not recovered.
    expect((await history(a, { since_offset: 2, epoch: old.epoch })).recovered).toBe(false);
  });

  it('history of a missing channel is CHANNEL_NOT_FOUND', async () => {
    const srv = await start();
    const a = await connect(srv);
    const res = await a.command('history', { room: ROOM, channel: 'missing' });
    expect(res).toMatchObject({ status: 'error', error_code: 'CHANNEL_NOT_FOUND', retryable: false });
  });
});
