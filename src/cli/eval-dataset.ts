/**
 * The routing-eval dataset (`npm run eval:routing -- --dataset FILE`), parsed
 * from untrusted JSON into a typed value once; errors name the offending path.
 *
 *   { source?, agents: [{ id, capabilities: [{ name, description, examples }] }],
 *     validation?: [{ text, expect }], queries: [{ text, expect }] }
 *
 * `expect` is an agent id, or null for "no agent should match". Capabilities
 * are validated later by the router itself (parseCapabilitySpecs).
 */

export interface EvalAgent {
  readonly id: string;
  /** Passed to SemanticRouter.register unchanged. */
  readonly capabilities: readonly unknown[];
}

export interface EvalQuery {
  readonly text: string;
  /** Agent id, or null: no agent should match. */
  readonly expect: string | null;
}

export interface EvalDataset {
  /** Attribution of the data, printed with every figure. */
  readonly source: string | null;
  readonly agents: readonly EvalAgent[];
  readonly validation: readonly EvalQuery[];
  readonly queries: readonly EvalQuery[];
}

export class EvalDatasetError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'EvalDatasetError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new EvalDatasetError(path, 'must be a non-empty string');
  return value;
}

function queries(value: unknown, path: string, agentIds: ReadonlySet<string>): EvalQuery[] {
  if (!Array.isArray(value)) throw new EvalDatasetError(path, 'must be an array');
  return value.map((q, i) => {
    if (!isRecord(q)) throw new EvalDatasetError(`${path}[${i}]`, 'must be an object');
    const text = nonEmptyString(q['text'], `${path}[${i}].text`);
    const expect = q['expect'];
    if (expect === null) return { text, expect: null };
    const id = nonEmptyString(expect, `${path}[${i}].expect`);
    if (!agentIds.has(id)) throw new EvalDatasetError(`${path}[${i}].expect`, `names no agent of the dataset: ${id}`);
    return { text, expect: id };
  });
}

export function parseEvalDataset(value: unknown): EvalDataset {
  if (!isRecord(value)) throw new EvalDatasetError('dataset', 'must be a JSON object');
  const rawAgents = value['agents'];
  if (!Array.isArray(rawAgents) || rawAgents.length === 0) throw new EvalDatasetError('agents', 'must be a non-empty array');
  const agents = rawAgents.map((a, i): EvalAgent => {
    if (!isRecord(a)) throw new EvalDatasetError(`agents[${i}]`, 'must be an object');
    const caps = a['capabilities'];
    if (!Array.isArray(caps) || caps.length === 0) throw new EvalDatasetError(`agents[${i}].capabilities`, 'must be a non-empty array');
    return { id: nonEmptyString(a['id'], `agents[${i}].id`), capabilities: caps };
  });
  const ids = new Set<string>();
  for (const [i, a] of agents.entries()) {
    if (ids.has(a.id)) throw new EvalDatasetError(`agents[${i}].id`, `agent ${a.id} is declared twice`);
    ids.add(a.id);
  }
  const source = value['source'];
  if (source !== undefined && typeof source !== 'string') throw new EvalDatasetError('source', 'must be a string');
  const parsedQueries = queries(value['queries'], 'queries', ids);
  if (parsedQueries.length === 0) throw new EvalDatasetError('queries', 'must not be empty');
  return {
    source: source ?? null,
    agents,
    validation: value['validation'] === undefined ? [] : queries(value['validation'], 'validation', ids),
    queries: parsedQueries,
  };
}
