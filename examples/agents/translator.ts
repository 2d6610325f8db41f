/**
 * Translator agent: a tiny English phrasebook into Spanish, French and German.
 * No network and no model: unknown phrases get an honest "not in my phrasebook".
 *
 * Run alone: node --import tsx examples/agents/translator.ts --url ws://127.0.0.1:9100 --token <jwt>
 * (the token needs client_type "ai-agent" and a `caps` pattern matching "translate.phrase").
 */
import { isMain } from '../cli.js';
import { runAgentFromArgs, startAgent, type AgentOptions, type AgentSpec, type Intent, type RunningAgent } from './agent.js';

type Language = 'Spanish' | 'French' | 'German';

const PHRASEBOOK: Record<string, Record<Language, string>> = {
  'good morning': { Spanish: 'buenos días', French: 'bonjour', German: 'guten Morgen' },
  'good night': { Spanish: 'buenas noches', French: 'bonne nuit', German: 'gute Nacht' },
  'thank you': { Spanish: 'gracias', French: 'merci', German: 'danke' },
  'please': { Spanish: 'por favor', French: "s'il vous plaît", German: 'bitte' },
  'goodbye': { Spanish: 'adiós', French: 'au revoir', German: 'auf Wiedersehen' },
  'where is the station': { Spanish: '¿dónde está la estación?', French: 'où est la gare ?', German: 'wo ist der Bahnhof?' },
  'the bill, please': { Spanish: 'la cuenta, por favor', French: "l'addition, s'il vous plaît", German: 'die Rechnung, bitte' },
};

export const TRANSLATOR_AGENT: AgentSpec = {
  id: 'translator-bot',
  capabilities: [
    {
      name: 'translate.phrase',
      description: 'Translate a short phrase or greeting from English into Spanish, French or German',
      examples: [
        'how do you say thank you in French',
        'how do I say hello in Spanish',
        'translate good night into German',
        'what is goodbye in Spanish',
        'say where is the station in French',
        'what is the German word for please',
      ],
      tags: ['language', 'translation'],
    },
  ],
  answer: (intent: Intent) => {
    const language = languageOf(intent.text);
    const phrase = Object.keys(PHRASEBOOK).find((p) => intent.text.toLowerCase().includes(p.replace(/[,?]/g, '')));
    if (phrase === undefined) {
      return { text: `That phrase is not in my phrasebook (I know: ${Object.keys(PHRASEBOOK).join('; ')}).`, language, translation: null };
    }
    const translation = PHRASEBOOK[phrase]![language];
    return { text: `"${phrase}" in ${language} is "${translation}".`, phrase, language, translation };
  },
};

function languageOf(text: string): Language {
  if (/\bfrench\b/i.test(text)) return 'French';
  if (/\bgerman\b/i.test(text)) return 'German';
  return 'Spanish';
}

export function startTranslatorAgent(url: string, token: string | undefined, options?: AgentOptions): Promise<RunningAgent> {
  return startAgent(TRANSLATOR_AGENT, url, token, options);
}

if (isMain(import.meta.url)) runAgentFromArgs(TRANSLATOR_AGENT, 'examples/agents/translator.ts');
