/**
 * Recognises this client's own messages in a history replay. Live delivery
 * skips the sender unless it published with echo, and the server does not
 * store `echo`, so the client remembers (boundedly) what it needs: its client
 * ids of recent connections and the echo publishes whose echo has not arrived.
 */
import type { Envelope } from '../protocol/envelope.js';

/** Client ids of earlier connections kept. */
const OWN_ID_MEMORY = 16;
/** Unacknowledged echo publishes kept (oldest forgotten first). */
const ECHO_PENDING_LIMIT = 1024;

export class OwnMessages {
  readonly #ids: string[] = [];
  readonly #echoPending = new Set<string>();
  #current: string | null = null;

  /** A new connection got this client id. */
  connected(clientId: string): void {
    this.#current = clientId;
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
    if (envelope.from !== null && envelope.from === this.#current) this.#echoPending.delete(envelope.id);
  }

  /**
   * True for a replayed message of ours that live delivery would not have
   * given us (published without echo, or its echo already arrived).
   */
  skipInReplay(envelope: Envelope): boolean {
    if (typeof envelope.from !== 'string' || !this.#ids.includes(envelope.from)) return false;
    return !this.#echoPending.delete(envelope.id);
  }
}
