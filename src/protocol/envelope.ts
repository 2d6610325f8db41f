/**
 * The ArqonBus v1 JSON envelope: the types every layer shares, and the parser
 * that turns an untrusted decoded frame (`unknown`) into a discriminated union.
 */
import { ProtocolError } from './errors.js';

export const PROTOCOL_VERSION = '1.0';

export const MESSAGE_TYPES = [
  'event',
  'private',
  'command',
  'command_response',
  'system',
  'telemetry',
  'error',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Types only the server emits; a client sending one gets FORBIDDEN_TYPE. */
export const SERVER_ONLY_TYPES: ReadonlySet<MessageType> = new Set([
  'command_response',
  'system',
  'telemetry',
  'error',
]);

export type JsonObject = Record<string, unknown>;

/** The envelope as it travels on the wire. */
export interface Envelope {
  version: string;
  id: string;
  type: MessageType;
  room: string | null;
  channel: string | null;
  from: string | null;
  timestamp: string;
  payload: JsonObject;
  metadata?: JsonObject;
  /** Only on `type: "error"`. */
  request_id?: string | null;
  error?: string;
  error_code?: string;
  retryable?: boolean;
}

/** A validated client frame. */
export type ClientFrame = EventFrame | PrivateFrame | CommandFrame;

interface FrameBase {
  /** The client's id when it gave one (responses refer to it), else a fresh `arq_` id. */
  id: string;
  timestamp: string;
  payload: JsonObject;
  metadata: JsonObject | undefined;
}
export interface EventFrame extends FrameBase {
  type: 'event';
  /** Both null only for an intent event (`payload.intent`), routed by meaning alone. */
  room: string | null;
  channel: string | null;
}
export interface PrivateFrame extends FrameBase {
  type: 'private';
  targets: string[];
  room: string | null;
  channel: string | null;
}
export interface CommandFrame extends FrameBase {
  type: 'command';
  command: string;
  parameters: JsonObject;
}

export const MAX_ID_LENGTH = 128;
export const MAX_TARGETS = 256;
const NAME_RE = /^[A-Za-z0-9_.@+-]{1,128}$/;
const COMMAND_RE = /^[a-z][a-z0-9_]{0,63}$/;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && NAME_RE.test(value);
}

let idCounter = 0;
const idPrefix = `arq_${Array.from(globalThis.crypto.getRandomValues(new Uint32Array(2)), (n) => n.toString(36)).join('')}_`;
/** A unique message id: `arq_` + a random per-process prefix + a counter. O(1), no crypto per message. */
export function newMessageId(): string {
  idCounter++;
  return idPrefix + idCounter.toString(36);
}

/** ISO 8601 date-time with a zone (Z or ±hh:mm), as v1 clients send it. */
const ISO_TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** Parses a strict ISO 8601 timestamp to ms, or NaN. */
export function parseIsoTime(value: unknown): number {
  if (typeof value !== 'string' || value.length > 40 || !ISO_TIMESTAMP_RE.test(value)) return NaN;
  return Date.parse(value);
}

/**
 * Reads `room` + `channel` or the combined `"channel": "room:channel"` form.
 * Returns nulls when neither is present; throws INVALID_CHANNEL when malformed.
 */
export function parseAddress(room: unknown, channel: unknown): { room: string; channel: string } | null {
  if (room == null && channel == null) return null;
  if (typeof channel === 'string' && channel.includes(':') && room == null) {
    const i = channel.indexOf(':');
    return checkAddress(channel.slice(0, i), channel.slice(i + 1));
  }
  return checkAddress(room, channel);
}

function checkAddress(room: unknown, channel: unknown): { room: string; channel: string } {
  if (!isValidName(room)) {
    throw new ProtocolError('INVALID_CHANNEL', 'room must be 1-128 characters of A-Z a-z 0-9 _ . @ + -', 'room');
  }
  if (!isValidName(channel)) {
    throw new ProtocolError('INVALID_CHANNEL', 'channel must be 1-128 characters of A-Z a-z 0-9 _ . @ + -', 'channel');
  }
  return { room, channel };
}

/** Reads the id a client gave a frame, if it is usable for correlating the error. */
export function peekRequestId(raw: unknown): string | null {
  if (!isJsonObject(raw)) return null;
  const id = raw['id'];
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH ? id : null;
}

/**
 * Metadata keys only the server sets (docs/protocol.md, "Reserved metadata
 * keys"): a client's value is dropped at the edge, whatever CASIL's mode or
 * scope, so no delivered or stored message can carry a forged one. One
 * `hasOwn` per key for frames with metadata; a copy only when one is present.
 */
function withoutServerKeys(metadata: JsonObject | undefined): JsonObject | undefined {
  if (metadata === undefined || !(Object.hasOwn(metadata, 'casil') || Object.hasOwn(metadata, 'route'))) return metadata;
  const { casil: _casil, route: _route, ...rest } = metadata;
  return rest;
}

/** Deepest nesting accepted in payload/metadata: deeper JSON parses but cannot be re-encoded safely. */
export const MAX_DEPTH = 64;

function optionalObject(raw: JsonObject, key: string): JsonObject | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (!isJsonObject(v)) throw new ProtocolError('INVALID_FIELD', `${key} must be an object`, key);
  if (depthExceeds(v, MAX_DEPTH)) throw new ProtocolError('INVALID_FIELD', `${key} is nested deeper than ${MAX_DEPTH} levels`, key);
  return v;
}

/** Iterative (no recursion, so hostile input cannot overflow the stack). */
function depthExceeds(root: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (depth > max) return true;
    if (typeof value === 'object' && value !== null) {
      for (const child of Object.values(value)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * Validates a decoded client frame. Throws ProtocolError with the code the
 * client will receive. Never trusts `from`/`sender`: the caller sets it.
 */
export function parseClientFrame(raw: unknown, now: () => Date = () => new Date()): ClientFrame {
  if (!isJsonObject(raw)) throw new ProtocolError('INVALID_FRAME', 'frame must be a JSON object');

  const id = raw['id'];
  if (id !== undefined && id !== null && (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH)) {
    throw new ProtocolError('INVALID_FIELD', `id must be a string of 1-${MAX_ID_LENGTH} characters`, 'id');
  }
  const version = raw['version'];
  if (version !== undefined && version !== null && typeof version !== 'string') {
    throw new ProtocolError('INVALID_FIELD', 'version must be a string', 'version');
  }
  const ts = raw['timestamp'];
  if (ts !== undefined && ts !== null && Number.isNaN(parseIsoTime(ts))) {
    throw new ProtocolError('INVALID_FIELD', 'timestamp must be an ISO 8601 string', 'timestamp');
  }

  // v1 compatibility: a top-level `command` implies type "command".
  const type = raw['type'] ?? (typeof raw['command'] === 'string' ? 'command' : undefined);
  if (typeof type !== 'string') throw new ProtocolError('INVALID_FIELD', 'type must be a string', 'type');
  if (!(MESSAGE_TYPES as readonly string[]).includes(type)) {
    throw new ProtocolError('UNKNOWN_TYPE', `unknown message type "${type.slice(0, 64)}"`, 'type');
  }
  if (SERVER_ONLY_TYPES.has(type as MessageType)) {
    throw new ProtocolError('FORBIDDEN_TYPE', `type "${type}" may only be sent by the server`, 'type');
  }

  const payload = optionalObject(raw, 'payload') ?? {};
  const metadata = withoutServerKeys(optionalObject(raw, 'metadata'));
  const frameId = typeof id === 'string' ? id : newMessageId();
  // Kept as sent when already UTC (`…Z`); other zones are converted to UTC.
  const timestamp =
    typeof ts === 'string' ? (ts.endsWith('Z') ? ts : new Date(parseIsoTime(ts)).toISOString()) : now().toISOString();

  // Plain object literals (no spreads): this runs once per inbound frame.
  switch (type as 'event' | 'private' | 'command') {
    case 'event': {
      const address = parseAddress(raw['room'], raw['channel']);
      if (address === null) {
        if (payload['intent'] === undefined) throw new ProtocolError('INVALID_CHANNEL', 'event needs room and channel (or payload.intent)', 'channel');
        return { type: 'event', id: frameId, timestamp, payload, metadata, room: null, channel: null };
      }
      return { type: 'event', id: frameId, timestamp, payload, metadata, room: address.room, channel: address.channel };
    }
    case 'private': {
      const targets = parseTargets(payload['target']);
      const address = parseAddress(raw['room'], raw['channel']);
      return {
        type: 'private', id: frameId, timestamp, payload, metadata, targets,
        room: address?.room ?? null, channel: address?.channel ?? null,
      };
    }
    case 'command': {
      const name = payload['command'] ?? raw['command'];
      if (typeof name !== 'string' || !COMMAND_RE.test(name)) {
        throw new ProtocolError('INVALID_FIELD', 'payload.command must be a command name', 'payload.command');
      }
      const params = payload['parameters'] ?? payload['args'] ?? raw['args'] ?? raw['parameters'] ?? {};
      if (!isJsonObject(params)) {
        throw new ProtocolError('INVALID_FIELD', 'payload.parameters must be an object', 'payload.parameters');
      }
      return { type: 'command', id: frameId, timestamp, payload, metadata, command: name, parameters: params };
    }
  }
}

function parseTargets(target: unknown): string[] {
  if (target === undefined || target === null || (Array.isArray(target) && target.length === 0)) {
    throw new ProtocolError('MISSING_TARGET', 'private message needs payload.target', 'payload.target');
  }
  const list = Array.isArray(target) ? target : [target];
  if (list.length > MAX_TARGETS) {
    throw new ProtocolError('INVALID_FIELD', `payload.target lists more than ${MAX_TARGETS} clients`, 'payload.target');
  }
  for (const t of list) {
    if (typeof t !== 'string' || t.length === 0 || t.length > MAX_ID_LENGTH) {
      throw new ProtocolError('INVALID_FIELD', 'payload.target must be a client id or a list of them', 'payload.target');
    }
  }
  return [...new Set(list as string[])];
}
