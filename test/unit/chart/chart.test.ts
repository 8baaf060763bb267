import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { skills } from '../../../skills/index.ts';
import { ENV_VARS } from '../../../src/config/load-config.ts';
import { configSchema, SECRET_PATHS } from '../../../src/config/schema.ts';
import { RESOURCES } from '../../../src/kube/resources.ts';

// The chart is data about the code: these specifications keep the two in step (helm itself runs in
// test/harness/chart-check.sh, against the e2e control plane).
const root = join(import.meta.dirname, '../../..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');
const yamlOf = (path: string): unknown => parse(read(path));

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function record(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new Error(`${what} is not a mapping`);
  return value;
}
function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
const readerRules: Rule[] = (() => {
  const rules = yamlOf('charts/wheelhouse/files/reader-rules.yaml');
  if (!Array.isArray(rules)) throw new Error('reader-rules.yaml is not a list');
  return rules.map((r: unknown) => {
    const rule = record(r, 'rule');
    return {
      apiGroups: strings(rule['apiGroups']),
      resources: strings(rule['resources']),
      verbs: strings(rule['verbs']),
    };
  });
})();
const values = record(yamlOf('charts/wheelhouse/values.yaml'), 'values.yaml');
const valuesSchema = record(JSON.parse(read('charts/wheelhouse/values.schema.json')), 'values.schema.json');
const schemaProps = record(valuesSchema['properties'], 'schema properties');

/** API group of a resource a skill names (subresources live in their parent's group). */
function groupOf(resource: string): string {
  const base = resource.split('/')[0] ?? resource;
  const known: Record<string, string> = {
    ...Object.fromEntries(Object.values(RESOURCES).map((r) => [r.resource, r.group])),
    rollouts: 'argoproj.io',
  };
  const group = known[base];
  if (group === undefined) throw new Error(`no API group known for "${resource}": add it to this test`);
  return group;
}
const grants = (group: string, resource: string, verb: string): boolean =>
  readerRules.some(
    (r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb),
  );

/** What the chart sets as the Wheelhouse config file, as the ConfigMap template builds it. */
function configFile(vals: Record<string, unknown>): Record<string, unknown> {
  const config = { ...record(vals['config'] ?? {}, 'config') };
  const identity = { ...record(config['identity'] ?? {}, 'identity') };
  if (!('unmapped' in identity))
    identity['unmapped'] = { kubeUser: 'wheelhouse:unmapped', groups: ['wheelhouse:viewers'] };
  config['identity'] = identity;
  const election = record(vals['leaderElection'] ?? {}, 'leaderElection');
  if (election['enabled'] === true) {
    config['ha'] = { leaderElection: { enabled: true, leaseName: 'wh-wheelhouse', namespace: 'wheelhouse' } };
  }
  const policy = vals['policy'];
  if (isRecord(policy) && Object.keys(policy).length > 0) config['policy'] = policy;
  return config;
}
/** A valid value of each secret variable, as the Secret would hold it. */
const SECRET_EXAMPLES: Record<string, string> = {
  SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
  SLACK_APP_TOKEN: 'xapp-1-abc',
  SLACK_SIGNING_SECRET: 'signing-secret',
  WH_LLM_API_KEY: 'sk-test',
  WH_DATABASE_URL: 'postgres://wheelhouse@db:5432/wheelhouse',
  WH_ALERTS_TOKEN: 'a-token-of-at-least-16-chars',
  WH_ES_PASSWORD: 'password',
  WH_ES_API_KEY: 'api-key',
};
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = isRecord(node[key]) ? node[key] : {};
    node[key] = next;
    node = next;
  }
  node[keys[keys.length - 1] ?? path] = value;
}
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const cur = out[k];
    out[k] = isRecord(cur) && isRecord(v) ? deepMerge(cur, v) : v;
  }
  return out;
}

describe('the chart read-only ClusterRole', () => {
  it('grants only get, list and watch, and never on Secrets or wildcards', () => {
    for (const rule of readerRules) {
      expect(rule.verbs.every((v) => ['get', 'list', 'watch'].includes(v))).toBe(true);
      expect(rule.resources).not.toContain('secrets');
      expect([...rule.resources, ...rule.apiGroups, ...rule.verbs]).not.toContain('*');
    }
  });

  it('lets Wheelhouse fill every watch cache (get, list, watch)', () => {
    for (const info of Object.values(RESOURCES)) {
      for (const verb of ['get', 'list', 'watch']) {
        expect(grants(info.group, info.resource, verb), `${verb} ${info.resource}`).toBe(true);
      }
    }
  });

  it('covers every resource and verb the read skills declare', () => {
    const readSkills = skills.filter((s) => s.risk === 'read');
    expect(readSkills.length).toBeGreaterThan(0);
    for (const skill of readSkills) {
      for (const resource of skill.resources) {
        for (const verb of skill.verbs) {
          expect(grants(groupOf(resource), resource, verb), `${skill.name}: ${verb} ${resource}`).toBe(true);
        }
      }
    }
  });

  it('grants nothing no read skill or cache needs', () => {
    const needed = new Set([
      ...Object.values(RESOURCES).map((r) => r.resource),
      ...skills.filter((s) => s.risk === 'read').flatMap((s) => s.resources),
    ]);
    for (const rule of readerRules) for (const r of rule.resources) expect(needed, r).toContain(r);
  });
});

describe('the chart values', () => {
  const valueFiles = [
    'charts/wheelhouse/ci/full-values.yaml',
    'charts/wheelhouse/ci/persistence-values.yaml',
    'test/harness/manifests/chart-values.yaml',
  ];

  it.each(['defaults', ...valueFiles])('%s produce a config file Wheelhouse accepts', (file) => {
    const merged = file === 'defaults' ? values : deepMerge(values, record(yamlOf(file), file));
    // With existingSecret set, the pod gets every secret variable from it: stand in for them here.
    const fromSecret: Record<string, unknown> = {};
    if (merged['existingSecret']) {
      for (const name of Object.keys(record(merged['secretEnv'], 'secretEnv'))) {
        const path = ENV_VARS.find((v) => v.name === name)?.path;
        if (path) setPath(fromSecret, path, SECRET_EXAMPLES[name]);
      }
    }
    const parsed = configSchema.safeParse(deepMerge(configFile(merged), fromSecret));
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it('map exactly the secret environment variables from the existing Secret', () => {
    const secretEnv = ENV_VARS.filter((v) => SECRET_PATHS.includes(v.path)).map((v) => v.name);
    expect(Object.keys(record(values['secretEnv'], 'secretEnv')).sort()).toEqual([...secretEnv].sort());
    const names = record(
      record(schemaProps['secretEnv'], 'secretEnv schema')['propertyNames'],
      'propertyNames',
    );
    expect(strings(names['enum']).sort()).toEqual([...secretEnv].sort());
  });

  it('name every config section the schema knows, except those the chart sets itself', () => {
    const configProps = record(
      record(schemaProps['config'], 'config schema')['properties'],
      'config properties',
    );
    const setByChart = ['dataDir', 'policy', 'ha'];
    const sections = Object.keys(configSchema.shape).filter((k) => !setByChart.includes(k));
    expect(Object.keys(configProps).sort()).toEqual(sections.sort());
  });

  it('set only environment variables Wheelhouse reads', () => {
    const template = read('charts/wheelhouse/templates/deployment.yaml');
    const set = [...template.matchAll(/- name: (WH_[A-Z_]+)/g)].map((m) => m[1]);
    expect(set.length).toBeGreaterThan(3);
    const known = new Set(['WH_CONFIG', ...ENV_VARS.map((v) => v.name)]);
    for (const name of set) expect(known, name).toContain(name);
  });
});

describe('the chart and the Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('run as the same numeric user', () => {
    const user = /^USER (\d+):(\d+)$/m.exec(dockerfile);
    const pod = record(values['podSecurityContext'], 'podSecurityContext');
    expect(user?.[1]).toBe(String(pod['runAsUser']));
    expect(user?.[2]).toBe(String(pod['runAsGroup']));
  });

  it('agree on the data directory and the HTTP port', () => {
    expect(dockerfile).toMatch(/WH_DATA_DIR=\/var\/lib\/wheelhouse/);
    expect(dockerfile).toMatch(new RegExp(`WH_HTTP_PORT=${values['containerPort']}\\b`));
    const template = read('charts/wheelhouse/templates/deployment.yaml');
    expect(template).toContain('mountPath: /var/lib/wheelhouse');
    expect(template).toMatch(/name: WH_DATA_DIR\n\s+value: \/var\/lib\/wheelhouse/);
  });

  it('keep the root filesystem read-only by default', () => {
    const sc = record(values['securityContext'], 'securityContext');
    expect(sc['readOnlyRootFilesystem']).toBe(true);
    expect(sc['allowPrivilegeEscalation']).toBe(false);
    expect(record(sc['capabilities'], 'capabilities')['drop']).toEqual(['ALL']);
  });
});
