import { z } from 'zod';
import { defineSkill } from '../../src/skills/define-skill.ts';
import { dnsLabel, duration, labelSelector } from '../../src/skills/schema.ts';

/** Skills shaped like the real ones, for grammar and runner tests that must not depend on them. */
export const listThings = defineSkill({
  name: 'things-list',
  title: 'List things',
  description: 'Lists things. Use when asked what things exist.',
  input: z.object({
    namespace: dnsLabel.optional().describe('Namespace, e.g. "shop"'),
    selector: labelSelector.optional().describe('Label selector, e.g. "app=checkout"'),
    unhealthy: z.boolean().default(false).describe('Only unhealthy things'),
    allNamespaces: z.boolean().default(false).describe('Every namespace'),
  }),
  risk: 'read',
  verbs: ['list'],
  resources: ['pods'],
  grammar: {
    command: 'things',
    aliases: ['th'],
    positional: ['namespace', 'selector'],
    selectorField: 'selector',
    short: { n: 'namespace', A: 'allNamespaces' },
  },
  examples: [
    { utterance: 'what things run in shop?', command: '/wh things shop', input: { namespace: 'shop' } },
  ],
  summarize: (i) => `list things in ${i.namespace ?? 'all namespaces'}`,
  async run(input) {
    return {
      summary: `things in ${input.namespace ?? 'all'}`,
      sections: [{ type: 'table', columns: ['NAME', 'SELECTOR'], rows: [['a', input.selector ?? '']] }],
    };
  },
});

export const readLogs = defineSkill({
  name: 'thing-logs',
  title: 'Read logs of a thing',
  description: 'Reads logs. Use when asked what a thing logged.',
  input: z.object({
    target: z.string().min(1).describe('deploy/NAME or a pod name, e.g. "deploy/checkout"'),
    namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
    since: duration.optional().describe('How far back, e.g. "15m"'),
    tail: z.number().int().positive().max(10000).optional().describe('Last N lines, e.g. 100'),
    grep: z.string().optional().describe('Regular expression, e.g. "timeout"'),
    previous: z.boolean().default(false).describe('The previous container (crash loops)'),
  }),
  risk: 'read',
  verbs: ['get'],
  resources: ['pods/log'],
  grammar: { command: 'logs', positional: ['target'], short: { n: 'namespace' } },
  examples: [
    {
      utterance: 'checkout logs with timeouts',
      command: '/wh logs deploy/checkout -n shop --since 15m --grep timeout',
      input: { target: 'deploy/checkout', namespace: 'shop', since: '15m', grep: 'timeout' },
    },
  ],
  summarize: (i) => `read logs of ${i.target} in ${i.namespace}`,
  async run(input) {
    return { summary: `logs of ${input.target} since ${input.since ?? 'start'}s`, sections: [] };
  },
});

export const failing = defineSkill({
  name: 'thing-fail',
  title: 'Always fails',
  description: 'Fails with whatever the test sets.',
  input: z.object({ code: z.string().default('boom').describe('What to throw, e.g. "boom"') }),
  risk: 'read',
  verbs: [],
  resources: [],
  grammar: { command: 'fail', positional: ['code'] },
  examples: [{ utterance: 'fail', command: '/wh fail', input: {} }],
  summarize: () => 'fail',
  async run(input, ctx) {
    if (input.code === 'hang') {
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      return { summary: 'unreachable', sections: [] };
    }
    throw new Error(input.code);
  },
});

export const changeThing = defineSkill({
  name: 'thing-change',
  title: 'Changes a thing',
  description: 'A write skill, to show that policy stops writes.',
  input: z.object({ name: z.string().describe('Name, e.g. "a"') }),
  risk: 'write',
  verbs: ['patch'],
  resources: ['deployments'],
  grammar: { command: 'change', positional: ['name'] },
  examples: [{ utterance: 'change a', command: '/wh change a', input: { name: 'a' } }],
  summarize: (i) => `change ${i.name}`,
  async propose() {
    throw new Error('a write skill must never be asked for a proposal while writes are disabled');
  },
});

/** A write skill that sets `image` on deploy/NAME in namespace "shop", undoable to `previous`. */
export const setImage = defineSkill({
  name: 'thing-set-image',
  title: 'Sets an image',
  description: 'A write skill for change-road tests.',
  input: z.object({
    name: z.string().describe('Deployment, e.g. "checkout"'),
    image: z.string().describe('Image, e.g. "shop/checkout:v2"'),
    previous: z.string().optional().describe('Image to roll back to, e.g. "shop/checkout:v1"'),
  }),
  risk: 'write',
  verbs: ['patch'],
  resources: ['deployments'],
  grammar: { command: 'set-image', positional: ['name', 'image'] },
  examples: [
    {
      utterance: 'set checkout to v2',
      command: '/wh set-image checkout shop/checkout:v2',
      input: { name: 'checkout', image: 'shop/checkout:v2' },
    },
  ],
  summarize: (i) => `set image of deploy/${i.name} to ${i.image}`,
  async propose(input) {
    const target = {
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
      kind: 'Deployment',
      namespace: 'shop',
      name: input.name,
    };
    return {
      summary: `set image of deploy/${input.name} to ${input.image}`,
      changes: [{ type: 'apply', target, resourceVersion: undefined, manifest: { image: input.image } }],
      verify: { kind: 'rollout', target, timeoutSeconds: 60 },
      blastRadius: { namespace: 'shop', objects: 1, replicas: 3 },
      undo: input.previous
        ? [{ type: 'apply', target, resourceVersion: undefined, manifest: { image: input.previous } }]
        : undefined,
    };
  },
});
