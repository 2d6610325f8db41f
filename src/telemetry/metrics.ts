/**
 * Prometheus metrics (prom-client) on a registry owned by one server, so
 * several servers in one process (tests) never share counters. Hot paths use
 * pre-bound label children and add fan-out counts once per fan-out.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { MESSAGE_TYPES, type MessageType } from '../protocol/envelope.js';

/** What the embedding serving stack reports (src/embeddings/serving.ts `ServingStats`), as metrics read it. */
export interface EmbeddingServingSnapshot {
  readonly modelId: string;
  readonly cache: { readonly hits: number; readonly misses: number; readonly coalesced: number; readonly evictions: number; readonly size: number };
  readonly batcher: { readonly rejected: number; readonly queuedTexts: number };
}

export class BusMetrics {
  readonly registry = new Registry();
  readonly connections: Gauge;
  readonly channels: Gauge;
  readonly bytesIn: Counter;
  readonly bytesOut: Counter;
  readonly deliveryErrors: Counter;
  readonly slowConsumerDisconnects: Counter;
  readonly heartbeatTimeouts: Counter;
  readonly protocolErrors: Counter<'code'>;
  readonly upgradeRefusals: Counter<'code'>;
  readonly commandDuration: Histogram<'command' | 'status'>;
  /** Semantic routing: intents by outcome (matched / no_match / error) and mode. */
  readonly intentsRouted: Counter<'outcome' | 'mode'>;
  /** Semantic routing: one route call (embedding + candidate search + scoring), by model id. */
  readonly routeDuration: Histogram<'model'>;
  /** Semantic routing: agents a matched intent was delivered to. */
  readonly intentRecipients: Histogram;
  /** CASIL: inspected messages by applied outcome, reason code, tenant and mode (docs/casil.md). */
  readonly casilDecisions: Counter<'outcome' | 'reason' | 'tenant' | 'mode'>;
  /** CASIL: time of one inspection, by mode. */
  readonly casilInspectionSeconds: Histogram<'mode'>;
  /** Embedding serving: texts per model call (the batcher's batch sizes), by model id. */
  readonly embeddingBatchTexts: Histogram<'model'>;
  /** Where the embedding cache and batcher counters are read at scrape time (set once the semantic service is instrumented). */
  private embeddingSource: () => EmbeddingServingSnapshot | null = () => null;
  private readonly inByType: Map<MessageType, Counter.Internal>;
  private readonly outByType: Map<MessageType, Counter.Internal>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.connections = new Gauge({ name: 'arqon_connections', help: 'Open bus connections.', registers });
    this.channels = new Gauge({ name: 'arqon_channels', help: 'Channels across all tenants.', registers });
    const messagesIn = new Counter({
      name: 'arqon_messages_in_total', help: 'Valid frames received, by type.', labelNames: ['type'], registers,
    });
    const messagesOut = new Counter({
      name: 'arqon_messages_out_total', help: 'Envelopes sent to clients, by type (one per recipient).',
      labelNames: ['type'], registers,
    });
    this.bytesIn = new Counter({ name: 'arqon_bytes_in_total', help: 'Bytes received in frames.', registers });
    this.bytesOut = new Counter({ name: 'arqon_bytes_out_total', help: 'Payload bytes written to sockets.', registers });
    this.deliveryErrors = new Counter({
      name: 'arqon_delivery_errors_total', help: 'Sends that failed or were skipped because the socket was closing.', registers,
    });
    this.slowConsumerDisconnects = new Counter({
      name: 'arqon_slow_consumer_disconnects_total', help: 'Clients closed with 4002 for exceeding the buffer limit.', registers,
    });
    this.heartbeatTimeouts = new Counter({
      name: 'arqon_heartbeat_timeouts_total', help: 'Clients closed for missing two heartbeat intervals.', registers,
    });
    this.protocolErrors = new Counter({
      name: 'arqon_errors_total', help: 'Errors reported to clients (error envelopes and failed command responses), by error_code.', labelNames: ['code'], registers,
    });
    this.upgradeRefusals = new Counter({
      name: 'arqon_upgrade_refusals_total', help: 'WebSocket upgrades refused before a socket existed, by error_code.',
      labelNames: ['code'], registers,
    });
    this.commandDuration = new Histogram({
      name: 'arqon_command_duration_seconds', help: 'Command handling latency.', labelNames: ['command', 'status'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers,
    });
    this.intentsRouted = new Counter({
      name: 'arqon_intents_routed_total', help: 'Events carrying payload.intent, by outcome (matched, no_match, error) and mode (best, all, k; unknown when unreadable).',
      labelNames: ['outcome', 'mode'], registers,
    });
    this.routeDuration = new Histogram({
      name: 'arqon_route_duration_seconds', help: 'Semantic route latency (embedding the intent and searching), by model id.', labelNames: ['model'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers,
    });
    this.intentRecipients = new Histogram({
      name: 'arqon_intent_recipients', help: 'Agents a matched intent was delivered to.', buckets: [0, 1, 2, 4, 8, 16, 32, 64], registers,
    });
    for (const outcome of ['matched', 'no_match', 'error']) for (const mode of ['best', 'all', 'k']) this.intentsRouted.labels(outcome, mode).inc(0);
    this.casilDecisions = new Counter({
      name: 'arqon_casil_decisions_total', help: 'CASIL decisions on inspected messages, by applied outcome, reason code (none when allowed), tenant and mode.',
      labelNames: ['outcome', 'reason', 'tenant', 'mode'], registers,
    });
    this.casilInspectionSeconds = new Histogram({
      name: 'arqon_casil_inspection_seconds', help: 'CASIL inspection latency per message, by mode.', labelNames: ['mode'],
      buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05], registers,
    });
    // Embedding serving (src/embeddings/serving.ts): read from the stack's own counters at scrape time, so the
    // embedding path pays nothing for them; series appear once the model is loaded.
    const source = (): EmbeddingServingSnapshot | null => this.embeddingSource();
    const fromServing = (read: (s: EmbeddingServingSnapshot) => number) =>
      function (this: Counter<'model'> | Gauge<'model'>): void {
        this.reset();
        const s = source();
        if (s !== null) this.labels(s.modelId).inc(read(s));
      };
    const servingCounter = (name: string, help: string, read: (s: EmbeddingServingSnapshot) => number): void => {
      new Counter({ name, help, labelNames: ['model'], registers, collect: fromServing(read) });
    };
    servingCounter('arqon_embedding_cache_hits_total', 'Texts the embedding cache answered, by model id.', (s) => s.cache.hits);
    servingCounter('arqon_embedding_cache_misses_total', 'Texts the embedding cache sent on to the model, by model id.', (s) => s.cache.misses);
    servingCounter('arqon_embedding_cache_coalesced_total', 'Texts that waited for a model call already in flight for the same text, by model id.', (s) => s.cache.coalesced);
    servingCounter('arqon_embedding_cache_evictions_total', 'Vectors evicted from the embedding cache to respect its bound, by model id.', (s) => s.cache.evictions);
    servingCounter('arqon_embedding_rejected_total', 'Embedding requests refused because the batcher queue was full (SEMANTIC_OVERLOADED), by model id.', (s) => s.batcher.rejected);
    new Gauge({
      name: 'arqon_embedding_cache_entries', help: 'Vectors in the embedding cache, by model id.', labelNames: ['model'], registers,
      collect: fromServing((s) => s.cache.size),
    });
    new Gauge({
      name: 'arqon_embedding_queue_texts', help: 'Texts waiting in the embedding batcher for a model call, by model id.', labelNames: ['model'], registers,
      collect: fromServing((s) => s.batcher.queuedTexts),
    });
    this.embeddingBatchTexts = new Histogram({
      name: 'arqon_embedding_batch_texts', help: 'Texts per embedding model call (batch size), by model id.', labelNames: ['model'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128], registers,
    });
    // Bound once (no label hashing per message) and started at 0 so every series is scraped from the start.
    this.inByType = new Map(MESSAGE_TYPES.map((t) => [t, messagesIn.labels(t)]));
    this.outByType = new Map(MESSAGE_TYPES.map((t) => [t, messagesOut.labels(t)]));
    for (const c of [...this.inByType.values(), ...this.outByType.values()]) c.inc(0);
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'arqon_' });
  }

  /** Reads the embedding cache and batcher counters from `source` at each scrape; null: no model loaded (yet). */
  observeEmbeddingServing(source: () => EmbeddingServingSnapshot | null): void {
    this.embeddingSource = source;
  }

  messageIn(type: MessageType, bytes: number): void {
    this.inByType.get(type)!.inc();
    this.bytesIn.inc(bytes);
  }

  /** Records one fan-out: `recipients` copies of a `bytes`-long frame. */
  messagesOut(type: MessageType, recipients: number, bytes: number): void {
    if (recipients === 0) return;
    this.outByType.get(type)!.inc(recipients);
    this.bytesOut.inc(recipients * bytes);
  }
}
