/**
 * The walk over a message's string leaves: field redaction by key and path,
 * detectors on each string, and a copy-on-write redacted result (objects are
 * copied only along the branches that change; an untouched message is
 * returned as is). Numbers, booleans and object keys are not inspected.
 */
import { advance, EMPTY, type PathNode } from './paths.js';
import { FIELD_MASK, maskSpans } from './redact.js';
import type { Detector, Finding, SecretAction } from './types.js';

export interface ScanRules {
  readonly secrets: SecretAction;
  /** Lower-cased field names redacted wherever they appear. */
  readonly redactKeys: ReadonlySet<string>;
  /** Trie of `redact_paths` (relative to the payload), or null. */
  readonly paths: PathNode | null;
  /** The detectors to run: secret detectors, and the enabled PII ones. */
  readonly detectors: readonly Detector[];
}

/** Mutable tallies of one scan. */
export class ScanState {
  /** Created on the first finding: most messages have none. */
  secretTypes: Set<string> | undefined;
  piiTypes: Set<string> | undefined;
  sensitiveFields = 0;
  /** A probable secret under `secrets: "block"`: the walk stops, the message will not be delivered. */
  blocked = false;
  leaves = 0;

  constructor(
    private readonly rules: ScanRules,
    /** Called every few hundred leaves; throws to abort an inspection over its time budget. */
    private readonly checkBudget: () => void,
  ) {}

  /**
   * Scans `value` (a payload or metadata object) and returns it, or its
   * redacted copy. `skipTopKey` names a top-level field that is addressing,
   * not content (a private message's `target`).
   */
  scanRoot(value: Record<string, unknown>, withPaths: boolean, skipTopKey?: string): Record<string, unknown> {
    const nodes = withPaths && this.rules.paths !== null ? [this.rules.paths] : EMPTY;
    return this.scanObject(value, nodes, skipTopKey) as Record<string, unknown>;
  }

  private scan(value: unknown, key: string | undefined, nodes: readonly PathNode[]): unknown {
    if (this.blocked) return value;
    if (typeof value === 'string') return this.scanString(value, key);
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return this.scanArray(value, nodes);
    return this.scanObject(value as Record<string, unknown>, nodes, undefined);
  }

  private scanObject(obj: Record<string, unknown>, nodes: readonly PathNode[], skipKey: string | undefined): unknown {
    const keys = this.rules.redactKeys;
    let copy: Record<string, unknown> | undefined;
    for (const k of Object.keys(obj)) {
      if (k === skipKey) continue;
      const child = obj[k];
      const next = advance(nodes, k);
      let out: unknown;
      if ((keys.size > 0 && keys.has(k.toLowerCase())) || isTerminal(next)) {
        this.sensitiveFields++;
        out = FIELD_MASK;
      } else {
        out = this.scan(child, k, next);
      }
      if (this.blocked) return obj;
      if (out !== child) {
        copy ??= { ...obj };
        copy[k] = out;
      }
    }
    return copy ?? obj;
  }

  private scanArray(arr: readonly unknown[], nodes: readonly PathNode[]): unknown {
    let copy: unknown[] | undefined;
    for (let i = 0; i < arr.length; i++) {
      const child = arr[i];
      const next = nodes.length === 0 ? EMPTY : advance(nodes, String(i));
      let out: unknown;
      if (isTerminal(next)) {
        this.sensitiveFields++;
        out = FIELD_MASK;
      } else {
        out = this.scan(child, undefined, next);
      }
      if (this.blocked) return arr;
      if (out !== child) {
        copy ??= arr.slice();
        copy[i] = out;
      }
    }
    return copy ?? arr;
  }

  private scanString(text: string, key: string | undefined): string {
    if ((++this.leaves & 255) === 0) this.checkBudget();
    let masks: Finding[] | undefined;
    for (const d of this.rules.detectors) {
      const found = d.detect(text, key);
      if (found.length === 0) continue;
      for (const f of found) {
        if (f.category === 'secret') {
          (this.secretTypes ??= new Set()).add(f.type);
          if (this.rules.secrets === 'block') {
            this.blocked = true;
            return text;
          }
          if (this.rules.secrets === 'redact') (masks ??= []).push(f);
        } else {
          (this.piiTypes ??= new Set()).add(f.type);
          (masks ??= []).push(f);
        }
      }
    }
    return masks === undefined ? text : maskSpans(text, masks);
  }
}

function isTerminal(nodes: readonly PathNode[]): boolean {
  for (const n of nodes) if (n.terminal) return true;
  return false;
}
