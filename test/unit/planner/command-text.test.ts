import { describe, expect, it } from 'vitest';
import { skills } from '../../../skills/index.ts';
import { commandFor } from '../../../src/planner/command-text.ts';
import { parseCommand } from '../../../src/planner/grammar.ts';
import { SkillRegistry } from '../../../src/skills/registry.ts';
import { listThings } from '../../support/test-skills.ts';

const registry = new SkillRegistry(skills);

describe('commandFor: the typed command behind a Submit button', () => {
  it.each(skills.flatMap((s) => s.examples.map((e) => [s.name, e.input] as const)))(
    '%s %j parses back to exactly its input',
    (name, input) => {
      const skill = registry.get(name);
      if (!skill) throw new Error(name);
      const parsed = parseCommand(commandFor(skill, input), registry);
      expect(parsed.kind === 'skill' && [parsed.skill.name, parsed.input]).toEqual([name, input]);
    },
  );

  it('quotes values the tokenizer would read otherwise, and writes false booleans as --no-', () => {
    const things = new SkillRegistry([listThings]);
    const input = { namespace: 'shop', selector: 'app in (a,b),tier!=web', unhealthy: false };
    const text = commandFor(listThings, input);
    expect(text).toBe('things shop --selector "app in (a,b),tier!=web" --no-unhealthy');
    const parsed = parseCommand(text, things);
    expect(parsed.kind === 'skill' && parsed.input).toEqual(input);
  });
});
