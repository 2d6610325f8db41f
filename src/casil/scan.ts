/**
 * The walk over a message's string leaves: field redaction by key and path,
 * detectors on each string, and a copy-on-write redacted result (objects are
 * copied only along the branches that change; an untouched message is
 * returned as is). Object keys are content too (maps keyed by e-mail, a
 * token pasted as a key): they go through the same detectors, and a masked
 * key keeps its value. Integers long enough to be a card number are read
 * when the card detector is on; other numbers and booleans are not.
 */
import { advance, EMPTY, type PathNode } from './paths.js';
import { isCardInteger } from './pii.js';
import { FIELD_MASK, maskSpans, spanMask } from './redact.js';
import type { Detector, Finding, SecretAction } from './types.js';

export interface ScanRules {
  readonly secrets: SecretAction;
  /** Lower-cased field names redacted wherever they appear. */
  readonly redactKeys: ReadonlySet<string>;
  /** Trie of `redact_paths` (relative to the payload), or null. */
  readonly paths: PathNode | null;
  /** The detectors to run: secret detectors, and the enabled PII ones. */
  readonly detectors: readonly Detector[];
  /** Check integers of 13+ digits for card numbers sent as JSON numbers (the card detector is on). */
  readonly scanNumbers: boolean;
  /**
   * Object keys these detectors found nothing in. Keys repeat from message to
   * message, so a key costs one lookup after its first sight. Bounded (cleared
   * when full); holds only keys without findings, so never a secret.
   */
  readonly cleanKeys: Set<string>;
}

const MAX_CLEAN_KEYS = 4096;

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
    if (typeof value === 'number') {
      // Only the card check applies to a number. Beyond 2^53 JSON.parse already changed its digits: nothing reliable to check.
      if (!this.rules.scanNumbers || !isCardInteger(value)) return value;
      (this.piiTypes ??= new Set()).add('card');
      return spanMask('card');
    }
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return this.scanArray(value, nodes);
    return this.scanObject(value as Record<string, unknown>, nodes, undefined);
  }

  private scanObject(obj: Record<string, unknown>, nodes: readonly PathNode[], skipKey: string | undefined): unknown {
    const keys = this.rules.redactKeys;
    const names = Object.keys(obj);
    /** Same keys as obj, values changed. */
    let copy: Record<string, unknown> | undefined;
    /** Rebuilt in order once a key itself is masked. */
    let renamed: Record<string, unknown> | undefined;
    let suffixes: Map<string, number> | undefined;
    for (let i = 0; i < names.length; i++) {
      const k = names[i]!;
      const child = obj[k];
      if (k === skipKey) {
        if (renamed !== undefined) put(renamed, k, child);
        continue;
      }
      const next = advance(nodes, k);
      let out: unknown;
      if ((keys.size > 0 && keys.has(k.toLowerCase())) || isTerminal(next)) {
        this.sensitiveFields++;
        out = FIELD_MASK;
      } else {
        out = this.scan(child, k, next);
      }
      if (this.blocked) return obj;
      const key = this.rules.cleanKeys.has(k) ? k : this.scanKey(k);
      if (this.blocked) return obj;
      if (renamed === undefined && key !== k) {
        renamed = {};
        const done = copy ?? obj;
        for (let j = 0; j < i; j++) put(renamed, names[j]!, done[names[j]!]);
      }
      if (renamed !== undefined) put(renamed, freeKey(renamed, key, (suffixes ??= new Map())), out);
      else if (out !== child) put((copy ??= { ...obj }), k, out);
    }
    return renamed ?? copy ?? obj;
  }

  /** A key through the detectors (without the key-name rule, which is about values). */
  private scanKey(k: string): string {
    const out = this.scanString(k, undefined);
    if (out === k && !this.blocked) {
      if (this.rules.cleanKeys.size >= MAX_CLEAN_KEYS) this.rules.cleanKeys.clear();
      this.rules.cleanKeys.add(k);
    }
    return out;
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

/**
 * `key`, or `key#2`, `key#3`…: two masked keys (two e-mails) must not
 * overwrite each other.
 */
function freeKey(obj: Record<string, unknown>, key: string, suffixes: Map<string, number>): string {
  if (!Object.hasOwn(obj, key)) return key;
  // The next suffix to try per key: n masked keys cost O(n), not O(n²).
  let n = suffixes.get(key) ?? 2;
  while (Object.hasOwn(obj, `${key}#${n}`)) n++;
  suffixes.set(key, n + 1);
  return `${key}#${n}`;
}

/** Sets an own property, `__proto__` included (an assignment would change the prototype instead). */
function put(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

function isTerminal(nodes: readonly PathNode[]): boolean {
  for (const n of nodes) if (n.terminal) return true;
  return false;
}
