/**
 * Recognises this client's own messages in a history replay. Live delivery
 * skips the sending connection unless it published with echo, and the server
 * does not store `echo`, so the client remembers (boundedly) what it needs.
 *
 * `from` alone cannot say "mine": under JWT auth it is the token's `sub`,
 * stable across reconnects and shared by every connection of that sub (other
 * tabs, other replicas of a service), whose messages live delivery does give
 * us. So a message is ours when its id carries this client's id prefix
 * (random per ArqonClient instance) and its `from` is one of our client ids.
 */
import type { Envelope } from '../protocol/envelope.js';

/** Distinct client ids of earlier connections kept (one under JWT; one per connection under --auth none). */
const OWN_ID_MEMORY = 16;
/** Unacknowledged echo publishes kept (oldest forgotten first). */
const ECHO_PENDING_LIMIT = 1024;

/** A random prefix for the ids this client instance sends: unique among instances, also of the same sub. */
export function instanceIdPrefix(): string {
  const bytes = new Uint8Array(12);
  const crypto = (globalThis as { crypto?: { getRandomValues?(array: Uint8Array): Uint8Array } }).crypto;
  if (typeof crypto?.getRandomValues === 'function') {
    crypto.getRandomValues(bytes);
  } else {
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  let out = 'c';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return `${out}_`;
}

export class OwnMessages {
  readonly #prefix: string;
  readonly #ids: string[] = [];
  readonly #echoPending = new Set<string>();

  /** `prefix`: what every id this client sends starts with. */
  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** A new connection got this client id. */
  connected(clientId: string): void {
    const known = this.#ids.indexOf(clientId);
    if (known !== -1) this.#ids.splice(known, 1);
    this.#ids.push(clientId);
    if (this.#ids.length > OWN_ID_MEMORY) this.#ids.shift();
  }

  /** The client published message `id`. */
  published(id: string, echo: boolean): void {
    if (!echo) return;
    this.#echoPending.add(id);
    if (this.#echoPending.size > ECHO_PENDING_LIMIT) {
      const oldest = this.#echoPending.values().next();
      if (oldest.done !== true) this.#echoPending.delete(oldest.value);
    }
  }

  /** A live event arrived; if it is our echo, it no longer needs replaying. */
  sawLive(envelope: Envelope): void {
    if (this.#isOwn(envelope)) this.#echoPending.delete(envelope.id);
  }

  /**
   * True for a replayed message of ours that live delivery would not have
   * given us (published without echo, or its echo already arrived).
   */
  skipInReplay(envelope: Envelope): boolean {
    if (!this.#isOwn(envelope)) return false;
    return !this.#echoPending.delete(envelope.id);
  }

  #isOwn(envelope: Envelope): boolean {
    return (
      typeof envelope.id === 'string' &&
      envelope.id.startsWith(this.#prefix) &&
      typeof envelope.from === 'string' &&
      this.#ids.includes(envelope.from)
    );
  }
}
