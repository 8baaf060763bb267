import type { ChangeProposal } from '../../src/changes/types.ts';
import { parseCommand } from '../../src/planner/grammar.ts';
import type { WriteSkill } from '../../src/skills/define-skill.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import { type FakeKubeOptions, fakeKube, skillContext } from './fake-kube.ts';

/** Parses a chat command for `skill` and returns its proposal against a fake cluster. */
export function proposer(
  skill: WriteSkill,
): (command: string, options?: FakeKubeOptions) => Promise<ChangeProposal> {
  const registry = new SkillRegistry([skill]);
  return async (command, options = {}) => {
    const parsed = parseCommand(command, registry);
    if (parsed.kind !== 'skill' || parsed.skill.risk === 'read')
      throw new Error('expected a write skill command');
    return parsed.skill.propose(parsed.input, skillContext(fakeKube(options)));
  };
}

/** Gives a built object the resourceVersion a proposal must carry. */
export function versioned<T extends { metadata?: { resourceVersion?: string } }>(
  object: T,
  resourceVersion: string,
): T {
  object.metadata = { ...object.metadata, resourceVersion };
  return object;
}
