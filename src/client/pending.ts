/**
 * Commands awaiting their response, by request id. Every entry owns a timer,
 * so the map can never hold more than what was sent within one timeout.
 */
import { ArqonClientError } from './errors.js';

interface Entry {
  readonly command: string;
  readonly resolve: (result: unknown) => void;
  readonly reject: (err: ArqonClientError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export class PendingRequests {
  readonly #entries = new Map<string, Entry>();

  get size(): number {
    return this.#entries.size;
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /**
   * Registers `id`; the returned promise settles on resolve/reject or after
   * `timeoutMs` with TIMEOUT (whose message names `what`, by default the command).
   */
  add(id: string, command: string, timeoutMs: number, what = `command "${command}"`): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#entries.delete(id);
        reject(
          new ArqonClientError('TIMEOUT', {
            message: `${what} got no response within ${timeoutMs} ms`,
            requestId: id,
            details: { command, timeout_ms: timeoutMs },
          }),
        );
      }, timeoutMs);
      this.#entries.set(id, { command, resolve, reject, timer });
    });
  }

  /** Settles `id` with a result; false when no such command is pending. */
  resolve(id: string, result: unknown): boolean {
    const entry = this.#take(id);
    if (entry === undefined) return false;
    entry.resolve(result);
    return true;
  }

  /** Settles `id` with an error; false when no such command is pending. */
  reject(id: string, err: ArqonClientError): boolean {
    const entry = this.#take(id);
    if (entry === undefined) return false;
    entry.reject(err);
    return true;
  }

  /** Rejects every pending command (the connection closed). */
  rejectAll(makeError: (id: string, command: string) => ArqonClientError): void {
    const entries = [...this.#entries];
    this.#entries.clear();
    for (const [id, entry] of entries) {
      clearTimeout(entry.timer);
      entry.reject(makeError(id, entry.command));
    }
  }

  #take(id: string): Entry | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    this.#entries.delete(id);
    clearTimeout(entry.timer);
    return entry;
  }
}
