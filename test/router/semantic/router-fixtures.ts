/**
 * Capabilities with hand-made texts and constructed vectors for the router
 * tests. Topics are orthogonal axes, so related and unrelated similarities
 * are known by construction; noise is seeded.
 */
import { SemanticRouter, type CapabilityWithVectors, type SemanticRouterDeps } from '../../../src/router/semantic/semantic-router.js';
import { near, prng } from './fixtures.js';

export const DIM = 32;
export const MODEL = 'test-axes-32';
export const SMALL_DIM = 8;
export const SMALL_MODEL = 'test-axes-8';

/** The unit vector along axis `i` (a "topic"). */
export function axis(i: number, dim = DIM): Float32Array {
  const v = new Float32Array(dim);
  v[i] = 1;
  return v;
}

/** Normalised sum of weighted axes, e.g. mix([0, 1], [1, 0.1]). */
export function mix(dim: number, ...parts: Array<[number, number]>): Float32Array {
  const v = new Float32Array(dim);
  for (const [i, w] of parts) v[i]! += w;
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

export interface CapOptions {
  readonly examples?: readonly string[];
  readonly tags?: readonly string[];
  /** Vector per text (description first); default: each text near `topic`. */
  readonly vectors?: readonly Float32Array[];
  readonly noise?: number;
  readonly seed?: number;
  readonly model?: string;
}

/** A declaration whose texts all sit near the `topic` axis in MODEL (or `model`). */
export function cap(name: string, description: string, topic: number, o: CapOptions = {}): CapabilityWithVectors {
  const examples = o.examples ?? [];
  const model = o.model ?? MODEL;
  const dim = model === SMALL_MODEL ? SMALL_DIM : DIM;
  const rand = prng(o.seed ?? topic * 7919 + 1);
  const vectors = o.vectors ?? [description, ...examples].map(() => near(axis(topic, dim), o.noise ?? 0.15, rand));
  return { capability: { name, description, examples, ...(o.tags ? { tags: o.tags } : {}) }, vectors: { [model]: vectors } };
}

export const TOPIC = { weather: 0, flights: 1, billing: 2, translate: 3, music: 4 } as const;

export const WEATHER = (): CapabilityWithVectors =>
  cap('weather.forecast', 'Weather forecast for a city', TOPIC.weather, {
    examples: ['will it rain tomorrow in Paris', 'temperature this weekend', 'is it sunny today'],
  });
export const FLIGHTS = (): CapabilityWithVectors =>
  cap('travel.flights', 'Book and search flights', TOPIC.flights, { examples: ['book a flight to Rome', 'cheap flights next week'] });
export const BILLING = (): CapabilityWithVectors =>
  cap('billing.invoice', 'Invoices, refunds and payments', TOPIC.billing, { examples: ['I want a refund', 'download my invoice'] });
export const TRANSLATE = (): CapabilityWithVectors =>
  cap('text.translate', 'Translate text between languages', TOPIC.translate, { examples: ['translate this to German'] });

/** A router factory over the two test models (indexes built synchronously); routers are closed after each test. */
export function routerFactory(afterEach: (fn: () => void) => void): (deps?: Partial<SemanticRouterDeps>) => SemanticRouter {
  const routers: SemanticRouter[] = [];
  afterEach(() => {
    for (const r of routers.splice(0)) r.close();
  });
  return (deps = {}) => {
    const r = new SemanticRouter({
      models: [
        { modelId: MODEL, dimension: DIM },
        { modelId: SMALL_MODEL, dimension: SMALL_DIM },
      ],
      ...deps,
      options: { ...deps.options, index: { build: 'sync', ...deps.options?.index } },
    });
    routers.push(r);
    return r;
  };
}
