/**
 * ChannelCatchUp on its own: a real MemoryStreamStore as the shared history,
 * stored events "received" as the spine would hand them over, outages
 * started and ended by hand. Every member must get every offset once, in
 * order, whatever outages overlap a catch-up.
 */
import { describe, expect, it } from 'vitest';
import { encodeEnvelope } from '../../src/edge/codec-json.js';
import { PROTOCOL_VERSION, type Envelope } from '../../src/protocol/envelope.js';
import { withPosition } from '../../src/storage/stream-store.js';
import { ChannelCatchUp, positionOf } from '../../src/spine/catch-up.js';
import type { ChannelAddress } from '../../src/spine/channel-bus.js';
import type { SpineMessage } from '../../src/spine/wire.js';
import { MemoryStreamStore } from '../../src/storage/stream-store-memory.js';
import type { HistoryPage, HistoryQuery, StreamKey } from '../../src/storage/stream-store.js';

const ADDRESS: ChannelAddress = { tenant: 'acme', room: 'lobby', name: 'general' };
const KEY: StreamKey = { tenant: 'acme', room: 'lobby', channel: 'general' };
const TOPIC = 'ch:acme:lobby:general';

/** The memory store, whose reads can be held: a read answers what history held when it was made, once let go. */
class GatedStore extends MemoryStreamStore {
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;
  reads = 0;

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  letGo(): void {
    this.open?.();
    this.gate = null;
  }

  override async read(key: StreamKey, query: HistoryQuery): Promise<HistoryPage> {
    this.reads++;
    const page = await super.read(key, query);
    if (this.gate !== null) await this.gate;
    return page;
  }
}

function fixture() {
  const store = new GatedStore({ maxMessages: 1000, maxAgeMs: 0 });
  const delivered: number[] = [];
  const errors: unknown[] = [];
  const catchUp = new ChannelCatchUp(store, (_a, m) => delivered.push(positionOf(m.bytes)!.offset), (e) => errors.push(e));
  catchUp.watch(TOPIC, ADDRESS);
  let epoch = '';
  /** Stores the next event; returns what the spine would hand over for it. */
  const publish = async (): Promise<SpineMessage> => {
    const envelope: Envelope = {
      version: PROTOCOL_VERSION, id: `e${Math.random()}`, type: 'event', room: 'lobby', channel: 'general',
      from: 'alice', timestamp: null, payload: {}, metadata: {},
    } as unknown as Envelope;
    const at = await store.append(KEY, envelope, Date.now());
    epoch = at.epoch;
    return { kind: 'S', origin: 'other', skip: null, bytes: encodeEnvelope(withPosition(envelope, at.offset, at.epoch)) };
  };
  /** What the channel bus does with a stored event that arrives: deliver it unless it is held. */
  const arrive = (m: SpineMessage): void => {
    if (catchUp.received(TOPIC, m)) delivered.push(positionOf(m.bytes)!.offset);
  };
  return { store, delivered, errors, catchUp, publish, arrive, epoch: () => epoch };
}

describe('ChannelCatchUp', () => {
  it('fills the gap of one outage from history, then releases what was held, once each', async () => {
    const f = fixture();
    f.arrive(await f.publish()); // 1
    f.catchUp.suspend();
    await f.publish(); // 2: missed
    await f.publish(); // 3: missed
    f.arrive(await f.publish()); // 4: arrives while the re-SUBSCRIBE is being answered: held
    await f.catchUp.resume(TOPIC);
    f.arrive(await f.publish()); // 5
    expect(f.delivered).toEqual([1, 2, 3, 4, 5]);
  });

  it('a quiet channel starts from the position the join read', async () => {
    const f = fixture();
    await f.publish(); // 1, before the join
    f.catchUp.seed(TOPIC, { offset: 1, epoch: f.epoch() });
    f.catchUp.suspend();
    await f.publish(); // 2: missed
    await f.catchUp.resume(TOPIC);
    expect(f.delivered).toEqual([2]);
  });

  it('skips what this node delivered to its members itself during the outage', async () => {
    const f = fixture();
    f.arrive(await f.publish()); // 1
    f.catchUp.suspend();
    await f.publish(); // 2: missed
    await f.publish(); // 3: published here, delivered locally
    f.catchUp.deliveredLocally(TOPIC, 3);
    await f.catchUp.resume(TOPIC);
    expect(f.delivered).toEqual([1, 2]);
  });

  it('a second outage starting during a catch-up: its gap is filled too, every offset once, in order', async () => {
    const f = fixture();
    f.arrive(await f.publish()); // 1
    f.arrive(await f.publish()); // 2
    f.catchUp.suspend(); // outage 1
    await f.publish(); // 3: missed
    await f.publish(); // 4: missed
    f.store.hold();
    const first = f.catchUp.resume(TOPIC); // reads 3, 4 and waits
    await Promise.resolve();
    expect(f.store.reads).toBe(1);
    f.catchUp.suspend(); // outage 2 starts while the catch-up of outage 1 runs
    await f.publish(); // 5: missed
    await f.publish(); // 6: missed
    f.store.letGo();
    await first;
    const m7 = await f.publish(); // 7
    f.arrive(m7); // arrives while the second re-SUBSCRIBE is answered
    await f.catchUp.resume(TOPIC); // outage 2 over
    f.arrive(await f.publish()); // 8
    expect(f.delivered).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(f.errors).toEqual([]);
  });

  it('a resume arriving while another catch-up runs waits for it and fills on from where it stopped', async () => {
    const f = fixture();
    f.arrive(await f.publish()); // 1
    f.catchUp.suspend();
    await f.publish(); // 2
    f.store.hold();
    const first = f.catchUp.resume(TOPIC);
    await Promise.resolve();
    f.catchUp.suspend();
    await f.publish(); // 3
    const second = f.catchUp.resume(TOPIC);
    f.store.letGo();
    await Promise.all([first, second]);
    f.arrive(await f.publish()); // 4
    expect(f.delivered).toEqual([1, 2, 3, 4]);
  });

  it('a failed history read releases what was held (the gap is left to the clients)', async () => {
    const f = fixture();
    f.arrive(await f.publish()); // 1
    f.catchUp.suspend();
    await f.publish(); // 2: missed
    f.arrive(await f.publish()); // 3: held
    f.store.read = () => Promise.reject(new Error('history down'));
    await f.catchUp.resume(TOPIC);
    expect(f.delivered).toEqual([1, 3]);
    expect(f.errors).toHaveLength(1);
  });
});
