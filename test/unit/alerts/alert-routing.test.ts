import { describe, expect, it } from 'vitest';
import { type AlertRoute, routeAlert } from '../../../src/alerts/alert-routing.ts';

const routes: AlertRoute[] = [
  { match: { severity: 'critical', namespace: ['payments', 'shop'] }, channel: 'CPAGE' },
  { match: { team: 'data' }, channel: 'CDATA' },
  { match: { namespace: 'shop-*' }, channel: 'CSHOPS' },
  { match: { namespace: 'shop' }, channel: 'CSHOP' },
];

describe('routeAlert', () => {
  it.each<[string, Record<string, string>, string | undefined, string | undefined]>([
    ['critical in payments pages', { severity: 'critical', namespace: 'payments' }, 'CPAGE', 'routes[0]'],
    [
      'critical in shop pages',
      { severity: 'critical', namespace: 'shop', team: 'data' },
      'CPAGE',
      'routes[0]',
    ],
    [
      'warning in shop goes to the shop channel',
      { severity: 'warning', namespace: 'shop' },
      'CSHOP',
      'routes[3]',
    ],
    [
      'a team label wins over the namespace when listed first',
      { team: 'data', namespace: 'shop' },
      'CDATA',
      'routes[1]',
    ],
    ['a glob matches shop-eu', { namespace: 'shop-eu' }, 'CSHOPS', 'routes[2]'],
    ['the glob does not match shop itself', { namespace: 'shopx' }, 'CDEFAULT', 'defaultChannel'],
    ['no labels: the default', {}, 'CDEFAULT', 'defaultChannel'],
    [
      'critical elsewhere: the default',
      { severity: 'critical', namespace: 'kube-system' },
      'CDEFAULT',
      'defaultChannel',
    ],
  ])('%s', (_name, labels, channel, by) => {
    expect(routeAlert(labels, routes, 'CDEFAULT')).toEqual({ channel, by });
  });

  it('routes nothing without a default when no rule matches', () => {
    expect(routeAlert({ namespace: 'x' }, routes, undefined)).toBeUndefined();
  });

  it('treats a route without matchers as a catch-all', () => {
    expect(routeAlert({ namespace: 'x' }, [{ match: {}, channel: 'CALL' }], undefined)).toEqual({
      channel: 'CALL',
      by: 'routes[0]',
    });
  });
});
