/** The `history` command: time- and offset-bounded reads with resume semantics. */
import { assertCan } from '../../identity/authorize.js';
import { ParameterError } from '../../protocol/errors.js';
import { streamKey } from '../../router/topic-router.js';
import { withPosition } from '../../storage/stream-store.js';
import type { CommandHandler } from './command.js';
import { optionalInt, optionalString, optionalTime, requiredAddress } from './params.js';

export const DEFAULT_HISTORY_LIMIT = 100;
export const MAX_HISTORY_LIMIT = 1000;

export const history: CommandHandler = {
  name: 'history',
  summary: 'Messages of room:channel, oldest first, by since/until time and/or since_offset (+ epoch), with limit.',
  async handle(bus, conn, params) {
    const { room, channel } = requiredAddress(params);
    const since = optionalTime(params, 'since');
    const until = optionalTime(params, 'until');
    if (since !== undefined && until !== undefined && since > until) {
      throw new ParameterError('until', 'until must not be before since');
    }
    const sinceOffset = optionalInt(params, 'since_offset', 0, Number.MAX_SAFE_INTEGER);
    const epoch = optionalString(params, 'epoch', 128);
    const limit = optionalInt(params, 'limit', 1, MAX_HISTORY_LIMIT) ?? DEFAULT_HISTORY_LIMIT;
    assertCan(conn.identity, 'history', room, channel);
    const ch = await bus.topic.find(conn, room, channel);
    const page = await bus.store.read(streamKey(ch), {
      limit,
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      ...(sinceOffset !== undefined ? { sinceOffset } : {}),
      ...(epoch !== undefined ? { epoch } : {}),
    });
    return {
      room,
      channel,
      messages: page.messages.map((m) => withPosition(m.envelope, m.offset, page.epoch)),
      epoch: page.epoch,
      recovered: page.recovered,
      earliest_offset: page.earliestOffset,
      latest_offset: page.latestOffset,
      has_more: page.hasMore,
    };
  },
};
