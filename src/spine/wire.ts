/**
 * The spine's pub/sub message: a one-line header (kind + origin node id) and
 * then the envelope bytes exactly as the origin encoded them, so a receiving
 * node fans out a slice of the message without decoding or re-encoding it.
 */

/** E: channel event or presence event; D: channel deleted (receivers drop the channel); P: private message. */
export type SpineKind = 'E' | 'D' | 'P';

const NEWLINE = 0x0a;

export interface SpineMessage {
  readonly kind: SpineKind;
  readonly origin: string;
  readonly bytes: Buffer;
}

export function encodeSpineMessage(kind: SpineKind, origin: string, bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${kind}${origin}\n`), bytes]);
}

/** Null for anything that is not a spine message (another deployment sharing the prefix, say). */
export function decodeSpineMessage(message: Buffer): SpineMessage | null {
  const eol = message.indexOf(NEWLINE);
  if (eol < 2) return null;
  const kind = String.fromCharCode(message[0]!);
  if (kind !== 'E' && kind !== 'D' && kind !== 'P') return null;
  return { kind, origin: message.toString('utf8', 1, eol), bytes: message.subarray(eol + 1) };
}
