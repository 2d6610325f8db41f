/**
 * The routing seam. Routers run in a fixed order for each `event`; each one
 * decides for itself whether the message concerns it and never reaches into
 * another. Order: 1. topic (room:channel), 2. semantic (payload.intent);
 * see docs/protocol.md, "Routing order".
 */
import type { Connection } from '../edge/connection.js';
import type { EventFrame } from '../protocol/envelope.js';

export interface RouteResult {
  readonly router: string;
  /** Connections the message was written to. */
  readonly delivered: number;
}

export interface Router {
  readonly name: string;
  /** Whether this router has anything to do with the frame. */
  accepts(frame: EventFrame): boolean;
  /** Routes the frame; throws ArqonError to reject it. */
  route(sender: Connection, frame: EventFrame): Promise<RouteResult>;
}

/**
 * Writes one encoded frame to every recipient but `except`. Returns how many were written.
 * Each recipient's first frame of an event-loop turn is written at once; later ones in the
 * same turn are coalesced into one write per connection (Connection.send), so a burst of
 * fan-outs costs one syscall per busy recipient rather than one per frame.
 */
export function fanout(bytes: Buffer, recipients: Iterable<Connection>, except: Connection | null = null): number {
  let delivered = 0;
  for (const conn of recipients) {
    if (conn !== except && conn.send(bytes)) delivered++;
  }
  return delivered;
}
