import WS from 'ws';
import type { WebSocketConstructor } from '../../src/client/index.js';
const a: WebSocketConstructor = WS;
const b: WebSocketConstructor = WebSocket;
export { a, b };
