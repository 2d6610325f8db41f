/** Types for prng.mjs, so the TypeScript tests and benches share the one implementation. */
export declare function mulberry32(seed: number): () => number;
