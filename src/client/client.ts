/**
 * ArqonClient: one logical connection to an ArqonBus server, kept alive
 * across socket drops (backoff + rejoin + history replay) and across token
 * expiry (a token provider is asked again for every connect and refresh).
 */
import { shouldReconnect } from '../protocol/codes.js';
import type { Envelope, JsonObject } from '../protocol/envelope.js';
import { backoffDelay } from './backoff.js';
import { ChannelTracker, type ChannelState } from './channels.js';
import { ArqonClientError, connectFailed, resumeError } from './errors.js';
import { TypedEmitter } from './emitter.js';
import { historyParameters } from './history.js';
import type { ServerMessage } from './inbound.js';
import { connectUrl, parseOptions, type ClientOptions, type ResolvedOptions } from './options.js';
import { instanceIdPrefix, OwnMessages } from './own-messages.js';
import { PendingRequests } from './pending.js';
import { IntentRequests, replyFrame, timeoutError, type RequestIntent, type RequestOptions } from './request.js';
import { runResume, type ResumeHost } from './resume.js';
import { TokenSession } from './token.js';
import { ABNORMAL_CLOSURE, attachSocket, READY_STATE, resolveWebSocket, type WebSocketLike } from './transport.js';
import { JSON_CLIENT_CODEC, loadCodec, type ClientCodec } from './codec.js';
import type { ChannelEvent, ClientEvents, CommandOptions, ConnectionStatus, HistoryOptions } from './types.js';
import type { HistoryResult, JoinResult, PublishOptions, Welcome } from './types.js';

interface Waiter {
  resolve(welcome: Welcome): void;
  reject(err: ArqonClientError): void;
}

export class ArqonClient extends TypedEmitter<ClientEvents> {
  readonly options: ResolvedOptions;
  #status: ConnectionStatus = { state: 'closed', code: 1005, reason: 'not connected yet' };
  #socket: WebSocketLike | null = null;
  #codec: ClientCodec = JSON_CLIENT_CODEC;
  #detach: (() => void) | null = null;
  /** Increments for every socket; callbacks of older sockets are ignored. */
  #generation = 0;
  #welcome: Welcome | null = null;
  /** A welcome was received since connect(): later drops reconnect instead of failing connect(). */
  #sessionConnected = false;
  #userClosed = false;
  #attempt = 0;
  #welcomeTimer: ReturnType<typeof setTimeout> | null = null;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #waiters: Waiter[] = [];
  #closeWaiters: (() => void)[] = [];
  readonly #pending = new PendingRequests();
  readonly #requests = new IntentRequests();
  readonly #channels: ChannelTracker;
  readonly #own: OwnMessages;
  readonly #idPrefix: string;
  #idCounter = 0;
  readonly #tokens: TokenSession;

  constructor(options: ClientOptions) {
    super();
    this.options = parseOptions(options);
    this.#channels = new ChannelTracker(this.options.resumeBufferLimit);
    this.#idPrefix = instanceIdPrefix();
    this.#own = new OwnMessages(this.#idPrefix);
    this.#tokens = new TokenSession(this.options.token, this.options);
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  /** The latest welcome, or null before the first. */
  get welcome(): Welcome | null {
    return this.#welcome;
  }

  /**
   * Opens the connection; resolves with the server's welcome. Rejects with
   * CONNECTION_FAILED when the first attempt fails (drops after that reconnect):
   * a refused token is refused at the HTTP upgrade (401/403/503), which a
   * WebSocket only reports as close 1006 (in Node the reason names the HTTP
   * status); a failing token provider also emits its TOKEN_UNAVAILABLE 'error'.
   * While connecting or reconnecting, resolves on the next welcome.
   */
  connect(): Promise<Welcome> {
    if (this.#status.state === 'connected' && this.#welcome !== null) return Promise.resolve(this.#welcome);
    const promise = new Promise<Welcome>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (this.#status.state === 'closed') {
      this.#userClosed = false;
      this.#sessionConnected = false;
      this.#attempt = 0;
      this.#setStatus({ state: 'connecting' });
      void this.#open();
    }
    return promise;
  }

  /** Closes with 1000 and stops reconnecting; resolves once closed. */
  close(): Promise<void> {
    this.#userClosed = true;
    this.#clearReconnectTimer();
    if (this.#status.state === 'closed') return Promise.resolve();
    const socket = this.#socket;
    if (socket === null) {
      // Between attempts (or still loading the WebSocket implementation).
      this.#generation += 1;
      this.#finish(1000, 'client closed');
      return Promise.resolve();
    }
    const generation = this.#generation;
    const done = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    try {
      socket.close(1000, 'client closed');
    } catch {
      // Already closing: the close event follows.
    }
    // Do not wait forever for a close handshake the server never completes.
    const fallback = setTimeout(() => this.#onSocketClosed(generation, 1000, 'client closed'), this.options.connectTimeoutMs);
    return done.finally(() => clearTimeout(fallback));
  }

  /** Sends a command; resolves with its `result`, rejects with an ArqonClientError. */
  command<T = unknown>(name: string, parameters: JsonObject = {}, options: CommandOptions = {}): Promise<T> {
    const socket = this.#connectedSocket();
    if (socket === null) return Promise.reject(this.#notConnected());
    const timeoutMs = options.timeoutMs ?? this.options.commandTimeoutMs;
    const invalid = timeoutError(timeoutMs);
    if (invalid !== null) return Promise.reject(invalid);
    const id = this.#nextId();
    const result = this.#pending.add(id, name, timeoutMs);
    try {
      socket.send(this.#codec.encode({ type: 'command', id, payload: { command: name, parameters } }));
    } catch (err) {
      this.#pending.reject(id, new ArqonClientError('CONNECTION_CLOSED', { requestId: id, details: { cause: String(err) } }));
    }
    return result as Promise<T>;
  }

  /** Joins a channel; the client then tracks its offset and rejoins it after reconnects. */
  async join(room: string, channel: string, options: CommandOptions = {}): Promise<JoinResult> {
    const state = this.#channels.ensure(room, channel);
    try {
      const result = await this.command<JoinResult>('join_channel', { room, channel }, options);
      if (state.resuming) {
        // Already joined and replaying history: the replay owns the position.
      } else if (typeof result.offset === 'number' && typeof result.epoch === 'string') {
        state.joinedAt(result.offset, result.epoch);
      } else {
        state.joined = true;
      }
      return result;
    } catch (err) {
      if (!state.joined) this.#channels.delete(room, channel);
      throw err;
    }
  }

  /** Leaves a channel. It is forgotten at once, so it is not rejoined even if the command fails. */
  leave(room: string, channel: string, options: CommandOptions = {}): Promise<unknown> {
    this.#channels.delete(room, channel);
    return this.command('leave_channel', { room, channel }, options);
  }

  /**
   * Publishes an event (fire-and-forget) and returns its id. A failure comes
   * back as an 'error' event whose `requestId` is this id.
   * @throws ArqonClientError NOT_CONNECTED (nothing is buffered)
   */
  publish(room: string, channel: string, payload: JsonObject, options: PublishOptions = {}): string {
    const metadata: JsonObject = { ...options.metadata };
    if (options.echo === true) metadata['echo'] = true;
    const id = this.#sendFrame((id) => ({ type: 'event', id, room, channel, payload, metadata }));
    this.#own.published(id, options.echo === true);
    return id;
  }

  /**
   * Sends a private message to one client id or several; returns its id.
   * @throws ArqonClientError NOT_CONNECTED (nothing is buffered)
   */
  sendPrivate(target: string | string[], payload: JsonObject = {}): string {
    return this.#sendFrame((id) => ({ type: 'private', id, payload: { ...payload, target } }));
  }

  /** Routes an intent by meaning; resolves with the agent's reply, rejects with ROUTE_NO_MATCH or TIMEOUT (request.ts). */
  request(intent: RequestIntent, payload: JsonObject = {}, options: RequestOptions = {}): Promise<Envelope> {
    return this.#requests.request((build) => this.#sendFrame(build), intent, payload, options, this.options.commandTimeoutMs);
  }

  /** Agents: answers a routed intent with a private message to its sender carrying `metadata.in_reply_to`. */
  reply(to: Envelope, payload: JsonObject = {}): string {
    return this.#sendFrame(replyFrame(to, payload));
  }

  /** Reads a channel's history (command `history`). */
  history(room: string, channel: string, options: HistoryOptions = {}, commandOptions: CommandOptions = {}): Promise<HistoryResult> {
    return this.command<HistoryResult>('history', historyParameters(room, channel, options), commandOptions);
  }

  /** Last position delivered on a joined channel, or undefined when not tracked. */
  position(room: string, channel: string): { offset: number | undefined; epoch: string | undefined } | undefined {
    const state = this.#channels.get(room, channel);
    return state === undefined ? undefined : { offset: state.lastOffset, epoch: state.epoch };
  }

  // ---- connection lifecycle -------------------------------------------------

  async #open(): Promise<void> {
    const generation = ++this.#generation;
    let socket: WebSocketLike;
    let token: string | undefined;
    try {
      const [WebSocketImpl, codec] = await Promise.all([resolveWebSocket(this.options.WebSocket), loadCodec(this.options.protocol)]);
      if (generation !== this.#generation) return;
      token = await this.#tokens.next();
      if (generation !== this.#generation) return;
      this.#codec = codec;
      socket = codec.open(WebSocketImpl, connectUrl(this.options, token));
    } catch (err) {
      if (generation !== this.#generation) return;
      if (err instanceof ArqonClientError) {
        // The token provider failed: this attempt fails like a refused connect (backoff, then ask again).
        this.emit('error', err);
        this.#onSocketClosed(generation, ABNORMAL_CLOSURE, err.message);
      } else {
        this.#onSocketClosed(generation, ABNORMAL_CLOSURE, `cannot open: ${String(err)}`);
      }
      return;
    }
    this.#socket = socket;
    this.#tokens.opened(token);
    this.#detach = attachSocket(socket, {
      open: () => {},
      message: (data) => this.#onData(generation, data),
      close: (code, reason) => this.#onSocketClosed(generation, code, reason),
    });
    this.#welcomeTimer = setTimeout(() => {
      this.#onSocketClosed(generation, ABNORMAL_CLOSURE, `no welcome within ${this.options.connectTimeoutMs} ms`);
    }, this.options.connectTimeoutMs);
  }

  /** The single transition out of a socket: every way a socket ends comes through here once. */
  #onSocketClosed(generation: number, code: number, reason: string): void {
    if (generation !== this.#generation) return;
    this.#generation += 1;
    // A static token that expired (4003) stays expired: reconnecting with it could only fail.
    const tokenRenewable = this.#tokens.closed(code);
    this.#dropSocket();
    const details = { close_code: code, close_reason: reason };
    this.#pending.rejectAll((id, command) => new ArqonClientError('CONNECTION_CLOSED', { requestId: id, details: { command, ...details } }));
    this.#requests.rejectAll(code, reason);
    this.#channels.dropUnjoined();

    if (this.#userClosed) return this.#finish(1000, 'client closed');
    if (!this.#sessionConnected) return this.#finish(code, reason);
    const attempt = this.#attempt + 1;
    if (!this.options.reconnect.enabled || !shouldReconnect(code) || !tokenRenewable || attempt > this.options.maxReconnectAttempts) {
      return this.#finish(code, reason);
    }
    this.#attempt = attempt;
    const delayMs = backoffDelay(attempt, this.options.reconnect, this.options.random);
    this.#setStatus({ state: 'reconnecting', attempt, delayMs, code, reason });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      void this.#open();
    }, delayMs);
  }

  #dropSocket(): void {
    if (this.#welcomeTimer !== null) clearTimeout(this.#welcomeTimer);
    this.#welcomeTimer = null;
    const socket = this.#socket;
    this.#detach?.();
    this.#detach = null;
    this.#socket = null;
    if (socket !== null && socket.readyState !== READY_STATE.CLOSED && socket.readyState !== READY_STATE.CLOSING) {
      try {
        socket.close();
      } catch {
        // Nothing more to do with an abandoned socket.
      }
    }
  }

  #finish(code: number, reason: string): void {
    this.#clearReconnectTimer();
    this.#channels.clear();
    this.#setStatus({ state: 'closed', code, reason });
    for (const waiter of this.#waiters.splice(0)) waiter.reject(connectFailed(this.#userClosed, code, reason));
    for (const resolve of this.#closeWaiters.splice(0)) resolve();
  }

  #clearReconnectTimer(): void {
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
  }

  #setStatus(status: ConnectionStatus): void {
    this.#status = Object.freeze(status);
    this.emit('status', this.#status);
  }

  // ---- inbound ---------------------------------------------------------------

  #onData(generation: number, data: unknown): void {
    if (generation !== this.#generation) return;
    const message = this.#codec.decode(data);
    if (message !== null) this.#dispatch(generation, message); // Unreadable or unknown kinds are ignored.
  }

  #dispatch(generation: number, message: ServerMessage): void {
    switch (message.kind) {
      case 'welcome':
        return this.#onWelcome(generation, message.welcome);
      case 'event':
        this.#own.sawLive(message.envelope);
        if (this.#channels.accept(message.envelope) === 'deliver') this.emit('event', message.envelope);
        return;
      case 'intent':
        return this.emit('intent', message.envelope);
      case 'private':
        return this.#requests.settle(message) ? undefined : this.emit('private', message.envelope);
      case 'system':
        return this.#requests.settle(message) ? undefined : this.emit('system', message.envelope);
      case 'token_expiring':
        this.emit('system', message.envelope);
        return this.#tokens.refresh(generation, {
          command: (name, parameters) => this.command(name, parameters),
          isCurrent: () => generation === this.#generation,
          refreshed: (result) => this.emit('refreshed', result),
          failed: (err) => this.emit('error', err),
        });
      case 'telemetry':
        return;
      case 'response':
        if (message.ok) this.#pending.resolve(message.requestId, message.result);
        else this.#pending.reject(message.requestId, message.error);
        return;
      case 'error':
        if (this.#requests.settle(message) || (message.requestId !== null && this.#pending.reject(message.requestId, message.error))) return;
        return this.emit('error', message.error);
    }
  }

  #onWelcome(generation: number, welcome: Welcome): void {
    if (this.#status.state === 'connected') return; // A second welcome on one socket changes nothing.
    if (this.#welcomeTimer !== null) clearTimeout(this.#welcomeTimer);
    this.#welcomeTimer = null;
    const resuming = this.#sessionConnected;
    this.#sessionConnected = true;
    this.#attempt = 0;
    this.#welcome = welcome;
    this.#own.connected(welcome.client_id);
    const channels = resuming ? this.#channels.joined() : [];
    // Before any listener runs, so live events of these channels are held from the start.
    for (const state of channels) state.startResume();
    const { client_id: clientId, connection_id: connectionId } = welcome;
    this.#setStatus({ state: 'connected', clientId, ...(connectionId === undefined ? {} : { connectionId }) });
    this.emit('welcome', welcome);
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(welcome);
    for (const state of channels) void this.#resume(generation, state);
  }

  async #resume(generation: number, state: ChannelState): Promise<void> {
    const host: ResumeHost = {
      command: (name, parameters) => this.command(name, parameters as JsonObject),
      deliver: (event: ChannelEvent) => this.emit('event', event),
      skipOwn: (envelope: Envelope) => this.#own.skipInReplay(envelope),
      isCurrent: () => generation === this.#generation && this.#channels.get(state.room, state.channel) === state,
      reportError: (err) => this.emit('error', resumeError(err, state.room, state.channel)),
    };
    const outcome = await runResume(host, state);
    if (outcome.kind === 'resumed') this.emit('resumed', outcome.event);
    if (outcome.kind === 'failed') {
      // The channel is gone or refuses us: stop tracking it. Transient failures keep it for the next reconnect.
      if (!outcome.error.retryable && this.#channels.get(state.room, state.channel) === state) this.#channels.delete(state.room, state.channel);
      this.emit('error', outcome.error);
    }
  }

  #connectedSocket(): WebSocketLike | null {
    const socket = this.#socket;
    if (this.#status.state !== 'connected' || socket === null || socket.readyState !== READY_STATE.OPEN) return null;
    return socket;
  }

  #notConnected(): ArqonClientError {
    return new ArqonClientError('NOT_CONNECTED', { details: { state: this.#status.state } });
  }

  #sendFrame(build: (id: string) => JsonObject): string {
    const socket = this.#connectedSocket();
    if (socket === null) throw this.#notConnected();
    const id = this.#nextId();
    socket.send(this.#codec.encode(build(id)));
    return id;
  }

  #nextId(): string {
    this.#idCounter += 1;
    return this.#idPrefix + this.#idCounter.toString(36);
  }
}
