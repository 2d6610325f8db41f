/** The shape of a built-in command. */
import type { JsonObject } from '../../protocol/envelope.js';
import type { Connection } from '../connection.js';
import type { BusContext } from '../context.js';

export interface CommandHandler {
  readonly name: string;
  /** One line for `docs/protocol.md` and the `status` listing. */
  readonly summary: string;
  handle(bus: BusContext, conn: Connection, params: JsonObject): unknown;
}
