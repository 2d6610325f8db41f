/**
 * How the examples print what happened: one block per intent (sender and
 * text, where it was routed, the reply or the best candidates), so the
 * human, the service and the demo all read the same way.
 */
import type { Exchange, Recipient } from './ask.js';

/** Where the examples write a line; the demo's test passes a collector. */
export type Print = (line: string) => void;

const INDENT = '      ';

export function formatRecipient(r: Recipient): string {
  return `${r.client_id} · ${r.capability} · score ${r.score.toFixed(3)}`;
}

export function formatExchange(e: Exchange): string[] {
  const lines = [`${e.from} → intent "${e.text}"`];
  switch (e.kind) {
    case 'replied':
      lines.push(`${INDENT}routed to ${e.routedTo === null ? '(acknowledgement not seen)' : formatRecipient(e.routedTo)}`);
      lines.push(`${INDENT}reply from ${e.reply.from ?? '?'}: ${String(e.reply.payload['text'] ?? JSON.stringify(e.reply.payload))}`);
      break;
    case 'no_match': {
      const threshold = e.threshold === null ? '' : `, threshold ${e.threshold}`;
      lines.push(`${INDENT}ROUTE_NO_MATCH (${e.reason}${threshold}); best candidates:`);
      if (e.candidates.length === 0) lines.push(`${INDENT}  (none)`);
      for (const c of e.candidates) lines.push(`${INDENT}  ${formatRecipient(c)}`);
      break;
    }
    case 'failed':
      if (e.routedTo !== null) lines.push(`${INDENT}routed to ${formatRecipient(e.routedTo)}`);
      lines.push(`${INDENT}${e.error.code}: ${e.error.message}`);
      break;
  }
  return lines;
}

export function printExchange(print: Print, e: Exchange): void {
  for (const line of formatExchange(e)) print(line);
}
