/**
 * The config file's `semantic` section reaches the router of a real server:
 * route_explain reports the scoring in force for the bundled glove-sif model.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

let srv: TestServer | undefined;
let client: RawClient | undefined;
afterEach(async () => {
  client?.close();
  await srv?.close();
});

async function explain(semantic?: unknown): Promise<Record<string, unknown>> {
  srv = await startServer(semantic === undefined ? {} : { semantic });
  ({ client } = await RawClient.connect(srv.url));
  return client.ok<Record<string, unknown>>('route_explain', { intent: { text: 'refund my card payment' } });
}

describe('semantic config section', () => {
  it('without it, the fitted per-model defaults apply', async () => {
    const res = await explain();
    expect(res).toMatchObject({ model: 'glove-sif-100', threshold: 0.531, weights: { centroid: 0, examples: 1, lexical: 0.8 } });
  });

  it('a per-model override beats the fitted table, field by field', async () => {
    const res = await explain({ models: { 'glove-sif-100': { threshold: 0.9, weights: { lexical: 0.1 } } } });
    expect(res).toMatchObject({ model: 'glove-sif-100', threshold: 0.9, weights: { centroid: 0, examples: 1, lexical: 0.1 } });
  });
});
