// BANKING77 (PolyAI, CC BY 4.0) reading and the deterministic train.csv split used to tune and
// sanity-check GloVe-SIF. Only train.csv is ever read here: test.csv stays untouched.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../lib/prng.mjs';

/** Default location: shared/ beside the repository (as laid out for developers and CI). */
export const DEFAULT_TRAIN_CSV = fileURLToPath(
  new URL('../../../shared/eval/banking77/train.csv', import.meta.url),
);

/** Minimal RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** @returns {{ text: string, category: string }[]} */
export function readBanking77(path = DEFAULT_TRAIN_CSV) {
  const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'));
  if (header?.[0] !== 'text' || header?.[1] !== 'category') {
    throw new Error(`${path}: expected header "text,category"`);
  }
  return rows.filter((r) => r.length === 2).map(([text, category]) => ({ text, category }));
}


/**
 * Per category, a seeded shuffle: the first `shots` rows describe the agent ("support"); the
 * rest alternate between "dev" (for tuning) and "heldout" (for the reported figure).
 */
export function splitTrain(rows, { shots = 10, seed = 77 } = {}) {
  const byCategory = new Map();
  for (const r of rows) {
    const list = byCategory.get(r.category) ?? [];
    list.push(r);
    byCategory.set(r.category, list);
  }
  const random = mulberry32(seed);
  const support = [];
  const dev = [];
  const heldout = [];
  for (const category of [...byCategory.keys()].sort()) {
    const list = byCategory.get(category);
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [list[i], list[j]] = [list[j], list[i]];
    }
    support.push(...list.slice(0, shots));
    list.slice(shots).forEach((r, i) => (i % 2 === 0 ? dev : heldout).push(r));
  }
  return { support, dev, heldout, categories: byCategory.size };
}
