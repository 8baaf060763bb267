import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from '../../../src/config/load-config.ts';

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'wh-config-')), 'wheelhouse.yaml');
  writeFileSync(path, text);
  return path;
}

function problemsOf(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('config loaded without problems');
}

describe('loadConfig', () => {
  it('starts from defaults with no file and no env: console, SQLite, read-only unmapped users', () => {
    const { config } = loadConfig({ env: {}, cwd: '/srv' });
    expect(config.dataDir).toBe('/srv/.wheelhouse');
    expect(config.store.driver).toBe('sqlite');
    expect(config.slack.botToken).toBeUndefined();
    expect(config.identity.unmapped).toEqual({ kubeUser: 'slack:{id}', groups: ['wheelhouse:viewers'] });
    expect(config.prometheus.timeoutMs).toBe(10_000);
  });

  it('merges the file with env, env winning', () => {
    const path = file(
      'http:\n  port: 9000\nprometheus:\n  url: http://prom:9090\nstore:\n  driver: sqlite\n',
    );
    const { config } = loadConfig({ env: { WH_HTTP_PORT: '9100', KUBECONFIG: '/a:/b' }, configPath: path });
    expect(config.http.port).toBe(9100);
    expect(config.prometheus.url).toBe('http://prom:9090');
    expect(config.kube.kubeconfig).toBe('/a');
  });

  it('reports every problem at once with its path and source', () => {
    const path = file(
      'http:\n  port: 70000\nslack:\n  mode: carrier-pigeon\nidentity:\n  users:\n    - kubeUser: alice\nlimits:\n  maxMetricsRange: forever\n',
    );
    const problems = problemsOf(() =>
      loadConfig({ env: { SLACK_BOT_TOKEN: 'not-a-token', WH_STORE: 'postgres' }, configPath: path }),
    );
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'http.port',
        'slack.mode',
        'slack.botToken',
        'identity.users.0',
        'limits.maxMetricsRange',
        'store.postgresUrl',
      ]),
    );
    expect(problems.find((p) => p.path === 'slack.botToken')?.source).toBe('env');
    expect(problems.find((p) => p.path === 'http.port')?.source).toBe('file');
    expect(problems.find((p) => p.path === 'identity.users.0')?.source).toBe('file');
    expect(problems.find((p) => p.path === 'identity.users.0')?.message).toContain('slack');
  });

  it('asks for the token each Slack mode needs', () => {
    const socket = problemsOf(() => loadConfig({ env: { SLACK_BOT_TOKEN: 'xoxb-1' } }));
    expect(socket.map((p) => p.path)).toEqual(['slack.appToken']);
    const http = problemsOf(() => loadConfig({ env: { SLACK_BOT_TOKEN: 'xoxb-1', WH_SLACK_MODE: 'http' } }));
    expect(http.map((p) => p.path)).toEqual(['slack.signingSecret']);
  });

  it('uses the service account only inside a pod without an explicit kubeconfig', () => {
    expect(loadConfig({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' } }).config.kube.inCluster).toBe('always');
    expect(
      loadConfig({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBECONFIG: '/k' } }).config.kube.inCluster,
    ).toBe('never');
    expect(loadConfig({ env: {} }).config.kube.inCluster).toBe('never');
    expect(loadConfig({ env: { HOME: '/home/ana' } }).config.kube.kubeconfig).toBe('/home/ana/.kube/config');
    expect(
      loadConfig({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' } }).config.kube.kubeconfig,
    ).toBeUndefined();
  });

  it('never prints secret values, even when they are invalid', () => {
    const secret = 'xoxp-super-secret-value';
    const error = (() => {
      try {
        loadConfig({ env: { SLACK_BOT_TOKEN: secret, SLACK_SIGNING_SECRET: 'short' } });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).not.toContain(secret);
    expect(String(error)).not.toContain('short');
  });

  it('names YAML syntax errors with their line', () => {
    const problems = problemsOf(() => loadConfig({ env: {}, configPath: file('http:\n  port: [1,\n') }));
    expect(problems[0]?.message).toMatch(/YAML error at line \d+/);
  });

  it('says when the file cannot be read', () => {
    const problems = problemsOf(() => loadConfig({ env: {}, configPath: '/nonexistent/wheelhouse.yaml' }));
    expect(problems[0]?.message).toContain('ENOENT');
  });
});

describe('describeConfig', () => {
  it('hides secrets but says whether they are set', () => {
    const { config } = loadConfig({
      env: {
        SLACK_BOT_TOKEN: 'xoxb-123-secret',
        SLACK_APP_TOKEN: 'xapp-456-secret',
        WH_ES_PASSWORD: 'pa55',
        WH_PROMETHEUS_URL: 'http://p:9090',
      },
    });
    const text = describeConfig(config).join('\n');
    expect(text).toContain('slack.botToken = (set, hidden)');
    expect(text).toContain('slack.signingSecret = (unset)');
    expect(text).toContain('prometheus.url = "http://p:9090"');
    expect(text).not.toContain('xoxb-123-secret');
    expect(text).not.toContain('xapp-456-secret');
    expect(text).not.toContain('pa55');
  });

  it('hides secrets inside lists, e.g. the HMAC key of a webhook pipeline', () => {
    const path = file(
      [
        'pipelines:',
        '  catalog:',
        '    - name: ci',
        '      type: webhook',
        '      namespace: shop',
        '      url: https://ci.example.com/hooks/wheelhouse',
        '      secret: hmac-key-0123456789-abcdef',
        '',
      ].join('\n'),
    );
    const text = describeConfig(loadConfig({ env: {}, configPath: path }).config).join('\n');
    expect(text).toContain('pipelines.catalog.0.secret = (set, hidden)');
    expect(text).toContain('pipelines.catalog.0.url = "https://ci.example.com/hooks/wheelhouse"');
    expect(text).not.toContain('hmac-key-0123456789');
  });
});

describe('the example config file', () => {
  it('is valid', () => {
    const { config } = loadConfig({ env: {}, configPath: 'test/fixtures/config/example.yaml' });
    expect(config.identity.users).toHaveLength(2);
    expect(config.elasticsearch.layout).toBe('fluent-bit');
  });
});

describe('change-road settings', () => {
  it('reads "false" from env as false (z.coerce.boolean would read it as true)', () => {
    const { config } = loadConfig({ env: { WH_AUDIT_STDOUT: 'false' } });
    expect(config.audit.stdout).toBe(false);
    expect(loadConfig({ env: { WH_AUDIT_STDOUT: 'true' } }).config.audit.stdout).toBe(true);
    const path = file('changes:\n  autoRollback: false\n  enabled: "false"\n');
    expect(loadConfig({ env: {}, configPath: path }).config.changes).toMatchObject({
      autoRollback: false,
      enabled: false,
      approvalReminder: '5m',
      upkeepInterval: '15s',
    });
  });

  it('takes an approvals channel id from env and refuses a channel name', () => {
    expect(loadConfig({ env: { WH_APPROVALS_CHANNEL: 'C0ONCALL1' } }).config.changes.approvalsChannel).toBe(
      'C0ONCALL1',
    );
    const problems = problemsOf(() => loadConfig({ env: { WH_APPROVALS_CHANNEL: '#oncall' } }));
    expect(JSON.stringify(problems)).toMatch(/changes\.approvalsChannel/);
  });
});
