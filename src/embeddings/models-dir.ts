import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository's `models/` folder, resolved from this module's location: the
 * same two levels up from `src/embeddings/` (tsx, vitest) and `dist/embeddings/`.
 */
export const MODELS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models');
