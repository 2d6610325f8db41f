/**
 * The text paths with the real bundled static model (glove-sif-100): capability
 * texts and intents embedded by the provider, the lexical component from the
 * intent text, a text with no known word as "no match", and a registration
 * overtaken by the agent's disconnect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GloveSifProvider } from '../../../src/embeddings/glove-sif.js';
import { SemanticRouter } from '../../../src/router/semantic/semantic-router.js';

let provider: GloveSifProvider;
let router: SemanticRouter;

const CAPABILITIES = {
  weather: {
    name: 'weather.forecast',
    description: 'Weather forecast: rain, snow, wind and temperature for a city',
    examples: ['will it rain tomorrow in Paris', 'how cold is it going to be this weekend', 'is it sunny in Madrid today'],
  },
  billing: {
    name: 'billing.refund',
    description: 'Billing support: invoices, payments, refunds and charges on a credit card',
    examples: ['I was charged twice for my subscription', 'send me a copy of my last invoice', 'I want my money back'],
  },
  music: {
    name: 'music.play',
    description: 'Play songs, albums and playlists by an artist',
    examples: ['play some jazz', 'put on the new album by my favourite band'],
  },
};

beforeAll(async () => {
  provider = await GloveSifProvider.load();
  router = new SemanticRouter({ providers: [provider], options: { index: { build: 'sync' } } });
  await router.register('t1', 'forecaster', [CAPABILITIES.weather]);
  await router.register('t1', 'cashier', [CAPABILITIES.billing]);
  await router.register('t1', 'dj', [CAPABILITIES.music]);
});

afterAll(async () => {
  router.close();
  await provider.close();
});

describe('semantic routing of text with glove-sif-100', () => {
  it('embeds capability texts with the provider and routes text intents by meaning', async () => {
    expect(router.stats('t1')).toMatchObject([{ modelId: 'glove-sif-100', capabilities: 3, size: 11 }]);
    const cases: Array<[string, string]> = [
      ['is it going to snow in Berlin on Friday', 'forecaster'],
      ['please refund the payment you took from my card', 'cashier'],
      ['play a song by the Beatles', 'dj'],
    ];
    for (const [text, agent] of cases) {
      const ex = await router.explain({ tenant: 't1', text });
      expect(ex.candidates[0]!.agentId, text).toBe(agent);
      expect(ex.candidates[0]!.components.lexical).not.toBeNull();
      // The best candidate clearly beats the others on the fused score.
      expect(ex.candidates[0]!.score - ex.candidates[1]!.score, text).toBeGreaterThan(0.05);
    }
  });

  it('an unrelated question stays below the threshold and comes back with candidates', async () => {
    const out = await router.route({ tenant: 't1', text: 'what time is it', minScore: 0.45 });
    expect(out).toMatchObject({ matched: false, reason: 'below_threshold' });
    if (!out.matched) expect(out.candidates).toHaveLength(3);
  });

  it('a text with no word the model knows is a zero vector: no match, not a weak match', async () => {
    const out = await router.route({ tenant: 't1', text: 'qzxv blorfk wuggle' });
    expect(out).toMatchObject({ matched: false, reason: 'zero_vector', candidates: [] });
  });

  it('drops a registration whose agent disconnected while its texts were being embedded', async () => {
    const pending = router.register('t1', 'ghost', [{ name: 'ghost.cap', description: 'Weather forecast for ghosts' }]);
    expect(router.removeAgent('t1', 'ghost')).toBe(0);
    expect(await pending).toEqual([]);
    expect(router.capabilities('t1', 'ghost')).toEqual([]);
    // A later registration of the same agent id is not affected.
    expect((await router.register('t1', 'ghost', [{ name: 'ghost.cap', description: 'Weather forecast for ghosts' }])).map((c) => c.name)).toEqual([
      'ghost.cap',
    ]);
    router.removeAgent('t1', 'ghost');
  });
});
