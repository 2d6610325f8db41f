import { describe, expect, it } from 'vitest';
import { ParameterError } from '../../../src/protocol/errors.js';
import { capabilityTexts, parseCapabilitySpec, parseCapabilitySpecs } from '../../../src/router/semantic/capability.js';

describe('parseCapabilitySpec', () => {
  it('accepts a full declaration, freezes it, dedupes tags', () => {
    const spec = parseCapabilitySpec({ name: 'weather.forecast', description: 'Forecasts', examples: ['rain?', 'sun?'], tags: ['wx', 'wx'] });
    expect(spec).toEqual({ name: 'weather.forecast', description: 'Forecasts', examples: ['rain?', 'sun?'], tags: ['wx'] });
    expect(Object.isFrozen(spec)).toBe(true);
    expect(capabilityTexts(spec)).toEqual(['Forecasts', 'rain?', 'sun?']);
  });

  it('defaults examples and tags to empty', () => {
    expect(parseCapabilitySpec({ name: 'a', description: 'b' })).toEqual({ name: 'a', description: 'b', examples: [], tags: [] });
  });

  it.each([
    [null, 'capability'],
    [{ name: '', description: 'x' }, 'capability.name'],
    [{ name: 'a*', description: 'x' }, 'capability.name'],
    [{ name: 'a', description: '   ' }, 'capability.description'],
    [{ name: 'a', description: 'x'.repeat(2001) }, 'capability.description'],
    [{ name: 'a', description: 'x', examples: 'no' }, 'capability.examples'],
    [{ name: 'a', description: 'x', examples: Array(33).fill('e') }, 'capability.examples'],
    [{ name: 'a', description: 'x', tags: ['bad tag'] }, 'capability.tags[0]'],
  ])('rejects %j naming %s', (value, parameter) => {
    expect(() => parseCapabilitySpec(value)).toThrow(ParameterError);
    try {
      parseCapabilitySpec(value);
    } catch (err) {
      expect((err as ParameterError).parameter).toBe(parameter);
    }
  });

  it('parses lists: non-empty, bounded, distinct names', () => {
    expect(() => parseCapabilitySpecs([], 4)).toThrow(ParameterError);
    expect(() => parseCapabilitySpecs({}, 4)).toThrow(ParameterError);
    expect(() => parseCapabilitySpecs(Array(5).fill({ name: 'a', description: 'b' }), 4)).toThrow(/more than 4/);
    expect(() => parseCapabilitySpecs([{ name: 'a', description: 'b' }, { name: 'a', description: 'c' }], 4)).toThrow(/twice/);
  });
});
