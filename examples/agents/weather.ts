/**
 * Weather agent: a fake but stable forecast. No network: the numbers are
 * derived from the city's name, so asking twice gives the same answer.
 *
 * Run alone: node --import tsx examples/agents/weather.ts --url ws://127.0.0.1:9100 --token <jwt>
 * (the token needs client_type "ai-agent" and a `caps` pattern matching "weather.forecast").
 */
import { isMain } from '../cli.js';
import { runAgentFromArgs, startAgent, type AgentOptions, type AgentSpec, type Intent, type RunningAgent } from './agent.js';

const CONDITIONS = ['sunny', 'partly cloudy', 'overcast', 'light rain', 'showers', 'windy and dry', 'foggy in the morning, then clear'];

export const WEATHER_AGENT: AgentSpec = {
  id: 'weather-bot',
  capabilities: [
    {
      name: 'weather.forecast',
      description: 'Weather forecast for a city: temperature, rain, wind and sunshine today and tomorrow',
      examples: [
        'what is the weather in Paris today',
        'will it rain in Rome tomorrow',
        'is it going to be sunny in Madrid this weekend',
        'how hot will it be in Athens tomorrow',
        'do I need an umbrella tomorrow morning',
        'weather forecast for Berlin: rain, sun or snow?',
      ],
      tags: ['weather'],
    },
  ],
  answer: (intent: Intent) => {
    const city = cityOf(intent.text);
    const day = /\btoday\b/i.test(intent.text) ? 'today' : 'tomorrow';
    const f = forecast(city);
    return { text: `${city} ${day}: ${f.condition}, ${f.low}–${f.high} °C, wind ${f.windKmh} km/h.`, city, day, ...f };
  },
};

/** The capitalised words after "in", "for" or "at" ("will it rain in New York" → "New York"). */
export function cityOf(text: string): string {
  const match = /\b(?:in|for|at)\s+([A-Z][\p{L}'-]*(?:\s+[A-Z][\p{L}'-]*)*)/u.exec(text);
  return match?.[1] ?? 'your area';
}

/** Deterministic: FNV-1a of the lower-cased name picks the condition and the temperatures. */
export function forecast(city: string): { condition: string; low: number; high: number; windKmh: number } {
  let h = 0x811c9dc5;
  for (const ch of city.toLowerCase()) h = Math.imul(h ^ ch.codePointAt(0)!, 0x01000193) >>> 0;
  const low = (h % 20) - 2;
  return { condition: CONDITIONS[(h >>> 8) % CONDITIONS.length]!, low, high: low + 4 + ((h >>> 16) % 8), windKmh: 5 + ((h >>> 20) % 30) };
}

export function startWeatherAgent(url: string, token: string | undefined, options?: AgentOptions): Promise<RunningAgent> {
  return startAgent(WEATHER_AGENT, url, token, options);
}

if (isMain(import.meta.url)) runAgentFromArgs(WEATHER_AGENT, 'examples/agents/weather.ts');
