/**
 * What happens to one inbound frame: size check, decode, validate, dispatch
 * to the routers or a command, and the typed error a client gets back.
 * Nothing a client sends escapes as an exception.
 */
import { CLOSE_CODES } from '../protocol/codes.js';
import { parseClientFrame, peekRequestId, type ClientFrame, type CommandFrame, type Envelope, type EventFrame, type PrivateFrame } from '../protocol/envelope.js';
import { ArqonError, toArqonError } from '../protocol/errors.js';
import { commandResponse, errorEnvelope, type Address } from '../protocol/outbound.js';
import type { Router } from '../router/router.js';
import { encodeEnvelope } from './codec-json.js';
import { BUILTIN_COMMANDS, type CommandHandler } from './commands/index.js';
import type { Connection } from './connection.js';
import type { BusContext } from './context.js';

export class SessionHandler {
  private readonly commands: ReadonlyMap<string, CommandHandler>;

  constructor(
    private readonly bus: BusContext,
    /** Routers in their fixed order of trial. */
    private readonly routers: readonly Router[],
    commands: ReadonlyMap<string, CommandHandler> = BUILTIN_COMMANDS,
  ) {
    this.commands = commands;
  }

  onFrame(conn: Connection, data: Buffer, isBinary: boolean): void {
    // ws keeps delivering frames while a close handshake is pending: a closed connection acts no more.
    if (!conn.isOpen) return;
    const now = Date.now();
    conn.lastSeen = now;
    conn.lastActivity = now;
    this.bus.telemetry.counters.messages_in++;

    const maxPayloadBytes = conn.limits.maxPayloadBytes;
    if (data.length > maxPayloadBytes) {
      this.reject(conn, new ArqonError('FRAME_TOO_LARGE', `frame of ${data.length} bytes exceeds ${maxPayloadBytes}`, {
        max_payload_bytes: maxPayloadBytes,
      }), null);
      conn.close(CLOSE_CODES.FRAME_TOO_LARGE.code, CLOSE_CODES.FRAME_TOO_LARGE.message, true);
      return;
    }

    // Over the rate: the frame is refused with a hint (not counted as abuse; the
    // replies go to the sender itself, whose backlog then meets the slow-consumer limit).
    const retryAfterMs = conn.rate.take(now);
    if (retryAfterMs > 0) {
      const err = new ArqonError('RATE_LIMITED', `more than ${conn.limits.rateLimitPerSecond} frames per second`, { retry_after_ms: retryAfterMs });
      // The id is worth a parse only for small frames; a large one is answered with request_id null.
      let requestId: string | null = null;
      if (data.length <= 4096) {
        try {
          requestId = peekRequestId(conn.codec.decode(data, isBinary));
        } catch {
          // No usable id; the error still goes out with request_id null.
        }
      }
      this.reject(conn, err, requestId);
      return;
    }

    let raw: unknown;
    let frame: ClientFrame;
    try {
      // JSON or Protobuf per the connection's subprotocol; both yield the plain object parseClientFrame validates.
      raw = conn.codec.decode(data, isBinary);
      frame = parseClientFrame(raw);
    } catch (err) {
      this.reject(conn, toArqonError(err), peekRequestId(raw));
      if (conn.countInvalidFrame(this.bus.config.maxInvalidFrames, now)) {
        conn.close(CLOSE_CODES.ABUSIVE_CLIENT.code, CLOSE_CODES.ABUSIVE_CLIENT.message, true);
      }
      return;
    }
    this.bus.metrics.messageIn(frame.type, data.length);

    // CASIL: once per message (and content-carrying command), before any router or handler (docs/casil.md). Off, it costs this one flag check.
    if (this.bus.casil.active && this.casilBlocked(conn, frame, data.length)) return;

    switch (frame.type) {
      case 'event':
        this.onEvent(conn, frame).catch((err: unknown) => this.internal(err));
        return;
      case 'private':
        this.onPrivate(conn, frame);
        return;
      case 'command':
        this.onCommand(conn, frame).catch((err: unknown) => this.internal(err));
        return;
    }
  }

  private async onEvent(conn: Connection, frame: EventFrame): Promise<void> {
    try {
      let routed = false;
      for (const router of this.routers) {
        if (!router.accepts(frame)) continue;
        routed = true;
        const result = await router.route(conn, frame);
        this.bus.telemetry.counters.messages_out += result.delivered;
      }
      if (!routed) throw new ArqonError('INVALID_CHANNEL', 'event has no destination', { field: 'channel' });
    } catch (err) {
      this.reject(conn, this.internal(err), frame.id, frame);
    }
  }

  private onPrivate(conn: Connection, frame: PrivateFrame): void {
    try {
      const { delivered, unknown } = this.bus.topic.sendPrivate(conn, frame);
      this.bus.telemetry.counters.messages_out += delivered;
      // A reply to an intent (`metadata.in_reply_to`) ends its request at this agent.
      this.bus.semantic.privateDelivered(conn, frame);
      if (unknown.length > 0) {
        this.reject(conn, new ArqonError('UNKNOWN_TARGET', 'some targets are not connected', { unknown_targets: unknown, delivered }), frame.id, frame);
      }
    } catch (err) {
      this.reject(conn, this.internal(err), frame.id, frame);
    }
  }

  private async onCommand(conn: Connection, frame: CommandFrame): Promise<void> {
    const started = process.hrtime.bigint();
    const handler = this.commands.get(frame.command);
    let response;
    let ok = false;
    try {
      if (handler === undefined) throw new ArqonError('UNKNOWN_COMMAND', `unknown command "${frame.command}"`, { command: frame.command });
      const result = await handler.handle(this.bus, conn, frame.parameters);
      response = commandResponse(frame.id, frame.command, { ok: true, result });
      ok = true;
    } catch (err) {
      const error = this.internal(err);
      this.countError(error);
      response = commandResponse(frame.id, frame.command, { ok: false, error });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const label = handler === undefined ? 'unknown' : frame.command;
    this.bus.metrics.commandDuration.labels(label, ok ? 'success' : 'error').observe(seconds);
    this.bus.telemetry.counters.commands++;
    if (this.bus.telemetry.active) {
      this.bus.telemetry.emit({
        event: 'command', tenant: conn.tenant, client_id: conn.clientId, command: label, status: ok ? 'success' : 'error',
        duration_ms: Math.round(seconds * 1e6) / 1e3,
      });
    }
    try {
      this.sendOne(conn, response);
    } catch (err) {
      // The result could not be encoded (e.g. too large): the client still gets its answer.
      this.sendOne(conn, commandResponse(frame.id, frame.command, { ok: false, error: this.internal(err) }));
    }
  }

  /**
   * Runs the CASIL gate; the frame may come back redacted. A blocked frame goes
   * no further: the sender gets the CASIL error (payload exactly `{reason}`),
   * and nothing is delivered, stored, routed or logged.
   */
  private casilBlocked(conn: Connection, frame: ClientFrame, size: number): boolean {
    const code = this.bus.casil.admit(conn, frame, size);
    if (code === null) return false;
    const err = new ArqonError(code, 'CASIL blocked message');
    if (frame.type !== 'command') {
      this.reject(conn, err, frame.id, frame);
      return true;
    }
    // A blocked command (set_metadata, register_capabilities) is answered like any failed command; its handler never runs.
    this.countError(err);
    if (this.bus.telemetry.active) {
      this.bus.telemetry.emit({ event: 'error', tenant: conn.tenant, client_id: conn.clientId, error_code: err.code, request_id: frame.id });
    }
    this.sendOne(conn, commandResponse(frame.id, frame.command, { ok: false, error: err }));
    return true;
  }

  /** Sends a typed error envelope to the connection. */
  private reject(conn: Connection, err: ArqonError, requestId: string | null, address?: Address): void {
    this.countError(err);
    if (this.bus.telemetry.active) {
      this.bus.telemetry.emit({ event: 'error', tenant: conn.tenant, client_id: conn.clientId, error_code: err.code, request_id: requestId });
    }
    this.sendOne(conn, errorEnvelope(err, requestId, address ? { room: address.room, channel: address.channel } : undefined));
  }

  private sendOne(conn: Connection, envelope: Envelope): void {
    const bytes = encodeEnvelope(envelope);
    if (conn.send(bytes)) this.bus.metrics.messagesOut(envelope.type, 1, bytes.length);
  }

  private countError(err: ArqonError): void {
    this.bus.metrics.protocolErrors.labels(err.code).inc();
    this.bus.telemetry.counters.errors++;
  }

  /** Converts a thrown value once; unexpected ones are logged with their stack, never sent. */
  private internal(err: unknown): ArqonError {
    if (!(err instanceof ArqonError)) this.bus.logger.error('unexpected error', { error: String((err as Error)?.stack ?? err) });
    return toArqonError(err);
  }
}
