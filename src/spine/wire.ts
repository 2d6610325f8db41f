/**
 * The spine's pub/sub message: a one-line header (kind, origin node id and,
 * for stored events, the connection not to deliver to) and then the envelope
 * bytes exactly as encoded once, so a receiving node fans out a slice of the
 * message without decoding or re-encoding it.
 */

/**
 * E: a channel event or presence event its origin already delivered locally
 *    (the origin drops its copy);
 * S: an event published by the history store in the same step as its append,
 *    which every node delivers, the origin too (skipping the sender unless it
 *    asked for an echo), so every member gets a channel's events in offset order;
 * D: channel deleted (receivers drop the channel); P: private message.
 */
export type SpineKind = 'E' | 'S' | 'D' | 'P';

const NEWLINE = 0x0a;
const KINDS = new Set<string>(['E', 'S', 'D', 'P']);

export interface SpineMessage {
  readonly kind: SpineKind;
  readonly origin: string;
  /** Connection id the origin must not deliver to (a sender without echo); null for none. */
  readonly skip: string | null;
  readonly bytes: Buffer;
}

/** The header line; node and connection ids contain no whitespace, so a space separates them. */
export function spineHeader(kind: SpineKind, origin: string, skip: string | null = null): string {
  return `${kind}${origin}${skip === null ? '' : ` ${skip}`}\n`;
}

export function encodeSpineMessage(kind: SpineKind, origin: string, bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(spineHeader(kind, origin)), bytes]);
}

/** Null for anything that is not a spine message (another deployment sharing the prefix, say). */
export function decodeSpineMessage(message: Buffer): SpineMessage | null {
  const eol = message.indexOf(NEWLINE);
  if (eol < 2) return null;
  const kind = String.fromCharCode(message[0]!);
  if (!KINDS.has(kind)) return null;
  const header = message.toString('utf8', 1, eol);
  const space = header.indexOf(' ');
  return {
    kind: kind as SpineKind,
    origin: space < 0 ? header : header.slice(0, space),
    skip: space < 0 ? null : header.slice(space + 1),
    bytes: message.subarray(eol + 1),
  };
}

/** The tail every positioned envelope ends with when offset and epoch are the last keys of the last field. */
const POSITION_TAIL = '0,"epoch":""}}';

/**
 * Splits the JSON of an envelope encoded with offset 0 and epoch '' (the last
 * two keys of `metadata`, its last field) around those two values, so the
 * store can fill them in when it appends. Null when the JSON has another shape.
 */
export function positionTemplate(json: string): { before: string; between: string; after: string } | null {
  if (!json.endsWith(`"offset":${POSITION_TAIL}`)) return null;
  return { before: json.slice(0, -POSITION_TAIL.length), between: ',"epoch":"', after: '"}}' };
}
