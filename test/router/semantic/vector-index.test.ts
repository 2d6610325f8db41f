/** Runs the VectorIndex conformance suite against every implementation, and checks that exact and HNSW agree. */
import { describe, expect, it } from 'vitest';
import { ExactVectorIndex } from '../../../src/router/semantic/exact-index.js';
import { HnswVectorIndex } from '../../../src/router/semantic/hnsw-index.js';
import { TieredVectorIndex } from '../../../src/router/semantic/tiered-index.js';
import type { VectorIndex } from '../../../src/router/semantic/vector-index.js';
import { clustered } from './fixtures.js';
import { runVectorIndexConformance } from './vector-index.conformance.js';

const GRAPH = { m: 16, efConstruction: 200, efSearch: 128, seed: 7 };

runVectorIndexConformance('ExactVectorIndex', {
  create: (dim, initialCapacity) => new ExactVectorIndex(dim, { initialCapacity }),
});

runVectorIndexConformance('HnswVectorIndex', {
  create: (dim, initialCapacity) => new HnswVectorIndex(dim, { ...GRAPH, initialCapacity }),
});

runVectorIndexConformance('TieredVectorIndex (sync, threshold 100)', {
  create: (dim) => new TieredVectorIndex(dim, { exactThreshold: 100, build: 'sync', hnsw: GRAPH }),
});

runVectorIndexConformance('TieredVectorIndex (background, threshold 100)', {
  create: (dim) => new TieredVectorIndex(dim, { exactThreshold: 100, build: 'background', sliceMs: 1, hnsw: GRAPH }),
  settle: (index) => (index as TieredVectorIndex).idle(),
});

describe('exact scan and HNSW on the same data', () => {
  it('return the same top results', () => {
    const dim = 64;
    const data = clustered(3000, dim, 150, 0.7, 21);
    const queries = clustered(100, dim, 150, 0.9, 22);
    const exact: VectorIndex = new ExactVectorIndex(dim);
    // Hard queries (far from every cluster centre) need a wider search to be exact.
    const hnsw: VectorIndex = new HnswVectorIndex(dim, { ...GRAPH, efSearch: 256, initialCapacity: 64 });
    data.forEach((v, label) => {
      exact.add(label, v);
      hnsw.add(label, v);
    });
    // 20% deleted: below the rebuild ratio, so the graph searches around its marks.
    for (let label = 0; label < data.length; label += 5) {
      exact.remove(label);
      hnsw.remove(label);
    }
    for (const q of queries) {
      const a = exact.search(q, 5);
      const b = hnsw.search(q, 5);
      expect(b.map((h) => h.label)).toEqual(a.map((h) => h.label));
      b.forEach((h, i) => expect(h.similarity).toBeCloseTo(a[i]!.similarity, 5));
    }
    exact.close();
    hnsw.close();
  });
});
