import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance } from '../../../src/planner/did-you-mean.ts';

describe('editDistance', () => {
  it.each([
    ['pods', 'pods', 0],
    ['psod', 'pods', 2],
    ['pdos', 'pods', 1],
    ['pod', 'pods', 1],
    ['lgos', 'logs', 1],
    ['metrics', 'metric', 1],
    ['', 'abc', 3],
  ])('%s → %s is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });
});

describe('didYouMean', () => {
  const words = ['pods', 'logs', 'events', 'describe', 'metrics', 'search-logs'];
  it('suggests a close word and nothing for a far one', () => {
    expect(didYouMean('pdos', words)).toEqual(['pods']);
    expect(didYouMean('evnets', words)).toEqual(['events']);
    expect(didYouMean('xyzzy', words)).toEqual([]);
  });
  it('suggests completions of a prefix', () => {
    expect(didYouMean('desc', words)).toEqual(['describe']);
  });
});
