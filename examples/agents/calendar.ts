/**
 * Calendar agent: books meetings and lists free slots in an imaginary
 * calendar. Deterministic: the free slots of a day follow from its name.
 *
 * Run alone: node --import tsx examples/agents/calendar.ts --url ws://127.0.0.1:9100 --token <jwt>
 * (the token needs client_type "ai-agent" and `caps` matching "calendar.schedule" and "calendar.availability").
 */
import { isMain } from '../cli.js';
import { runAgentFromArgs, startAgent, type AgentOptions, type AgentSpec, type Intent, type RunningAgent } from './agent.js';

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'];
const SLOTS = ['09:00', '10:30', '11:00', '13:30', '14:00', '15:30', '16:00'];

export const CALENDAR_AGENT: AgentSpec = {
  id: 'calendar-bot',
  capabilities: [
    {
      name: 'calendar.schedule',
      description: 'Schedule, move or cancel meetings and appointments in the calendar',
      examples: [
        'book a meeting with Sam on Monday at 3pm',
        'schedule a meeting with Alex on Friday at 9am',
        'schedule a call with the design team tomorrow',
        'move my dentist appointment to Wednesday',
        'cancel the weekly sync meeting',
        'put lunch with Maria in my calendar on Thursday',
      ],
      tags: ['calendar'],
    },
    {
      name: 'calendar.availability',
      description: 'Find free time slots and check when people are available for a meeting',
      examples: [
        'when am I free on Monday',
        'am I free on Friday afternoon',
        'is Maria available on Wednesday',
        'find a free slot for a meeting this week',
        'which time slots are still open on Tuesday',
      ],
      tags: ['calendar'],
    },
  ],
  answer: (intent: Intent) => {
    const day = dayOf(intent.text);
    if (intent.capability === 'calendar.availability') {
      const free = freeSlots(day);
      return { text: `Free on ${day}: ${free.join(', ')}.`, day, free };
    }
    const time = timeOf(intent.text) ?? freeSlots(day)[0]!;
    const withWhom = /\bwith\s+([A-Z][\p{L}-]*)/u.exec(intent.text)?.[1];
    const title = withWhom === undefined ? 'Meeting' : `Meeting with ${withWhom}`;
    return { text: `Booked "${title}" on ${day} at ${time} (30 min).`, day, time, title };
  },
};

function dayOf(text: string): string {
  return WEEKDAYS.find((d) => text.toLowerCase().includes(d.toLowerCase())) ?? 'Monday';
}

/** "at 10", "at 3pm", "at 14:30" → "10:00", "15:00", "14:30". */
function timeOf(text: string): string | undefined {
  const m = /\bat\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\b/i.exec(text);
  if (m === null) return undefined;
  let hour = Number(m[1]);
  if (m[3]?.toLowerCase() === 'pm' && hour < 12) hour += 12;
  return `${String(hour).padStart(2, '0')}:${m[2] ?? '00'}`;
}

/** Three of the day's slots, picked by the day's position in the week, in time order. */
function freeSlots(day: string): string[] {
  const i = Math.max(0, WEEKDAYS.indexOf(day));
  return [0, 2, 4].map((k) => SLOTS[(i + k) % SLOTS.length]!).sort();
}

export function startCalendarAgent(url: string, token: string | undefined, options?: AgentOptions): Promise<RunningAgent> {
  return startAgent(CALENDAR_AGENT, url, token, options);
}

if (isMain(import.meta.url)) runAgentFromArgs(CALENDAR_AGENT, 'examples/agents/calendar.ts');
