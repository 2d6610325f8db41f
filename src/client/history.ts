/** The `history` command's parameters, from the SDK's camelCase options. */
import type { JsonObject } from '../protocol/envelope.js';
import type { HistoryOptions } from './types.js';

export function historyParameters(room: string, channel: string, options: HistoryOptions): JsonObject {
  const parameters: JsonObject = { room, channel };
  if (options.sinceOffset !== undefined) parameters['since_offset'] = options.sinceOffset;
  if (options.epoch !== undefined) parameters['epoch'] = options.epoch;
  if (options.since !== undefined) parameters['since'] = isoTime(options.since);
  if (options.until !== undefined) parameters['until'] = isoTime(options.until);
  if (options.limit !== undefined) parameters['limit'] = options.limit;
  return parameters;
}

function isoTime(value: string | Date): string {
  return value instanceof Date ? value.toISOString() : value;
}
