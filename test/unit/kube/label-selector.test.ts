import { describe, expect, it } from 'vitest';
import {
  formatLabelSelector,
  matcherFromLabelSelector,
  matchesLabels,
  parseLabelSelector,
} from '../../../src/kube/label-selector.ts';

const labels = { app: 'checkout', tier: 'web', env: 'prod' };

describe('parseLabelSelector + matchesLabels (API server semantics)', () => {
  it.each([
    ['', true],
    ['app=checkout', true],
    ['app==checkout', true],
    ['app=cart', false],
    ['app!=cart', true],
    ['missing!=x', true],
    ['app=checkout,tier=web', true],
    ['app=checkout,tier=api', false],
    ['env in (prod,staging)', true],
    ['env in (dev)', false],
    ['env notin (dev, test)', true],
    ['missing notin (a)', true],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['app=checkout, env in (prod), !canary', true],
    ['example.com/team=pay', false],
  ])('%s → %s', (selector, expected) => {
    expect(matchesLabels(labels, parseLabelSelector(selector))).toBe(expected);
  });

  it.each(['app=', 'app = checkout'])('accepts the valid form %s', (selector) => {
    expect(() => parseLabelSelector(selector)).not.toThrow();
  });

  it.each(['app=check out', 'env in prod', '=x', 'app=(x)'])('rejects %s with INVALID_INPUT', (selector) => {
    expect(() => parseLabelSelector(selector)).toThrowError(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });
});

describe('workload selectors', () => {
  const selector = {
    matchLabels: { app: 'checkout' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['web', 'api'] },
      { key: 'canary', operator: 'DoesNotExist' },
    ],
  };

  it('matches like the controllers do', () => {
    const matcher = matcherFromLabelSelector(selector);
    expect(matchesLabels(labels, matcher)).toBe(true);
    expect(matchesLabels({ ...labels, canary: 'true' }, matcher)).toBe(false);
  });

  it('formats back to selector text that parses to the same matcher', () => {
    const text = formatLabelSelector(selector);
    expect(text).toBe('app=checkout,tier in (web,api),!canary');
    expect(parseLabelSelector(text)).toEqual(matcherFromLabelSelector(selector));
  });
});
