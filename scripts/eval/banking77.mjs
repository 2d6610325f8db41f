#!/usr/bin/env node
/**
 * Converts BANKING77 (PolyAI, "Efficient Intent Detection with Dual Sentence Encoders", 2020;
 * CC BY 4.0, PolyAI-LDN/task-specific-datasets, banking_data/) into the routing-eval format
 * read by `npm run eval:routing` (src/cli/eval-routing.ts):
 *
 *   { source, agents: [{ id, capabilities: [{ name, description, examples }] }],
 *     validation: [{ text, expect }], queries: [{ text, expect }] }
 *
 * Rules (/work/shared/eval/README.md): every category is one agent whose capability is its
 * humanised name plus `--examples` train.csv utterances; `validation` is a sample of the other
 * train.csv rows (`--validation` per category), the only split anything may be tuned on;
 * `queries` is test.csv. `--unknown` categories (seeded pick) are held out: not registered,
 * their validation and test utterances expect null (no agent should match).
 *
 *   node scripts/eval/banking77.mjs [--data DIR] [--out FILE] [--examples 10] [--validation 20] [--unknown 10] [--seed 77]
 *
 * Writes to the OS temp folder by default (never into the repository); prints the path.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { mulberry32 } from '../lib/prng.mjs';

const ATTRIBUTION =
  'BANKING77 (Casanueva et al., PolyAI, 2020), CC BY 4.0, github.com/PolyAI-LDN/task-specific-datasets (banking_data/)';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '/work/shared/eval/banking77' },
    out: { type: 'string', default: join(tmpdir(), 'arqonbus-eval', 'banking77.json') },
    examples: { type: 'string', default: '10' },
    validation: { type: 'string', default: '20' },
    unknown: { type: 'string', default: '10' },
    seed: { type: 'string', default: '77' },
  },
});
const count = (key) => {
  const n = Number(values[key]);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`--${key} must be a non-negative integer, got ${values[key]}`);
  return n;
};
const nExamples = count('examples');
const nValidation = count('validation');
const nUnknown = count('unknown');
const seed = count('seed');

/** RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF) into rows of strings. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function readSplit(file) {
  const [header, ...rows] = parseCsv(readFileSync(join(values.data, file), 'utf8'));
  const ti = header.indexOf('text');
  const ci = header.indexOf('category');
  if (ti < 0 || ci < 0) throw new Error(`${file}: expected columns text,category`);
  return rows.map((r) => ({ text: r[ti].trim(), category: r[ci].trim() })).filter((r) => r.text !== '');
}

function shuffled(items, random) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const humanise = (category) => {
  const words = category.replace(/_/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
};
/** Capability names allow A–Z a–z 0–9 _ . : - only (e.g. "reverted_card_payment?" loses its "?"). */
const capabilityName = (category) => category.replace(/[^A-Za-z0-9_.:-]/g, '').slice(0, 128) || 'capability';

const train = readSplit('train.csv');
const test = readSplit('test.csv');
const byCategory = new Map();
for (const row of train) {
  if (!byCategory.has(row.category)) byCategory.set(row.category, []);
  byCategory.get(row.category).push(row.text);
}
const categories = [...byCategory.keys()].sort();
const random = mulberry32(seed);
const unknown = new Set(shuffled(categories, random).slice(0, nUnknown));

const agents = [];
const validation = [];
for (const category of categories) {
  const texts = shuffled(byCategory.get(category), random);
  const known = !unknown.has(category);
  if (known) {
    agents.push({
      id: category,
      capabilities: [{ name: capabilityName(category), description: humanise(category), examples: texts.slice(0, nExamples) }],
    });
  }
  // Held-out categories register nothing, so their validation sample may start at 0; the split stays the same shape.
  for (const text of texts.slice(nExamples, nExamples + nValidation)) validation.push({ text, expect: known ? category : null });
}
const queries = test.map((r) => ({ text: r.text, expect: unknown.has(r.category) ? null : r.category }));

const dataset = {
  source: ATTRIBUTION,
  split: { examples: nExamples, validationPerCategory: nValidation, unknown: [...unknown].sort(), seed },
  agents,
  validation,
  queries,
};
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, JSON.stringify(dataset));
process.stderr.write(
  `${agents.length} agents, ${unknown.size} held out (${[...unknown].sort().join(', ')}); ` +
    `${validation.length} validation, ${queries.length} queries (${queries.filter((q) => q.expect === null).length} expect no match)\n` +
    `Data: ${ATTRIBUTION}\n`,
);
process.stdout.write(`${values.out}\n`);
