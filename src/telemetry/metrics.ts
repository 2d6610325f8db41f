/**
 * Prometheus metrics (prom-client) on a registry owned by one server, so
 * several servers in one process (tests) never share counters. Hot paths use
 * pre-bound label children and add fan-out counts once per fan-out.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { MESSAGE_TYPES, type MessageType } from '../protocol/envelope.js';

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
    // Bound once (no label hashing per message) and started at 0 so every series is scraped from the start.
    this.inByType = new Map(MESSAGE_TYPES.map((t) => [t, messagesIn.labels(t)]));
    this.outByType = new Map(MESSAGE_TYPES.map((t) => [t, messagesOut.labels(t)]));
    for (const c of [...this.inByType.values(), ...this.outByType.values()]) c.inc(0);
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'arqon_' });
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
