/** The built-in command table. */
import type { CommandHandler } from './command.js';
import { casilReload, casilStatus } from './casil.js';
import { channelInfo, createChannel, deleteChannel, joinChannel, leaveChannel, listChannels } from './channels.js';
import { history } from './history.js';
import { refreshToken } from './identity.js';
import { findAgents, registerCapabilities, routeExplain, unregisterCapabilities } from './semantic.js';
import { ping, setMetadata, status, whoami } from './session.js';

export type { CommandHandler } from './command.js';

export const BUILTIN_COMMANDS: ReadonlyMap<string, CommandHandler> = new Map(
  [status, ping, whoami, setMetadata, createChannel, deleteChannel, joinChannel, leaveChannel, listChannels, channelInfo, history, refreshToken,
    registerCapabilities, unregisterCapabilities, findAgents, routeExplain, casilReload, casilStatus].map((c) => [c.name, c]),
);
