import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load-config.ts';

const base = { HOME: '/home/test', KUBECONFIG: '/k/config' };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ env: { ...base, ...env } });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
}

describe('the alerts section of the configuration', () => {
  it('is off by default and needs nothing then', () => {
    const { config } = loadConfig({ env: base });
    expect(config.alerts).toMatchObject({
      enabled: false,
      enrichment: true,
      updateInterval: '10s',
      silenceDurations: ['1h', '8h'],
    });
  });

  it('reads the token, channel and Alertmanager URL from the environment', () => {
    const { config } = loadConfig({
      env: {
        ...base,
        WH_ALERTS_ENABLED: 'true',
        WH_ALERTS_TOKEN: 'token-0123456789abcdef',
        WH_ALERTS_CHANNEL: 'COPS',
        WH_ALERTMANAGER_URL: 'http://am:9093',
      },
    });
    expect(config.alerts).toMatchObject({
      enabled: true,
      token: 'token-0123456789abcdef',
      defaultChannel: 'COPS',
      alertmanagerUrl: 'http://am:9093',
    });
  });

  it('takes "false" from the environment as false', () => {
    expect(loadConfig({ env: { ...base, WH_ALERTS_ENABLED: 'false' } }).config.alerts.enabled).toBe(false);
  });

  it.each([
    [
      { WH_ALERTS_ENABLED: 'true', WH_ALERTS_CHANNEL: 'COPS' },
      'alerts.token: POST /alerts needs credentials',
    ],
    [
      { WH_ALERTS_ENABLED: 'true', WH_ALERTS_TOKEN: 'token-0123456789abcdef' },
      'alerts.defaultChannel: needs a default channel',
    ],
    [{ WH_ALERTS_TOKEN: 'short' }, 'alerts.token: must be at least 16 characters'],
  ])('names what is missing: %o', (env, message) => {
    expect(problems(env).join('\n')).toContain(message);
  });
});
