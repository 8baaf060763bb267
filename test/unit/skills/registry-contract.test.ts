import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { skills } from '../../../skills/index.ts';
import { parseCommand } from '../../../src/planner/grammar.ts';
import { help } from '../../../src/planner/help.ts';
import type { AnySkill } from '../../../src/skills/define-skill.ts';
import { commandOf, SkillRegistry } from '../../../src/skills/registry.ts';

/**
 * The contract every skill in skills/index.ts keeps, so that adding a folder cannot quietly break
 * the grammar, help, or the future LLM planner (which reads descriptions and JSON Schemas).
 */

const SKILLS_DIR = join(import.meta.dirname, '../../../skills');
const registry = new SkillRegistry(skills);

const folders = readdirSync(SKILLS_DIR).filter((entry) => statSync(join(SKILLS_DIR, entry)).isDirectory());

/** Each input field's `.describe()` text, as the planner will see it in the JSON Schema. */
function fieldDescriptions(skill: AnySkill): Record<string, string | undefined> {
  const schema = z.toJSONSchema(skill.input, { io: 'input' });
  return Object.fromEntries(
    Object.entries(schema.properties ?? {}).map(([field, property]) => [
      field,
      typeof property === 'object' ? property.description : undefined,
    ]),
  );
}

describe('the skill registry', () => {
  it('accepts every skill: names and command words are unique', () => {
    expect(() => new SkillRegistry(skills)).not.toThrow();
    expect(registry.all().map((s) => s.name)).toEqual(skills.map((s) => s.name));
  });

  it('has one registered skill per folder under skills/, and no folder without one', () => {
    expect([...folders].sort()).toEqual(skills.map((s) => s.name).sort());
  });

  it('is not empty', () => {
    expect(skills.length).toBeGreaterThan(0);
  });
});

describe.each(skills.map((skill) => [skill.name, skill] as const))('skill %s', (name, skill) => {
  it('is kebab-case <resource>-<action>', () => {
    expect(name).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)+$/);
  });

  it('is the export of skills/<name>/skill.ts', async () => {
    const module: Record<string, unknown> = await import(join(SKILLS_DIR, name, 'skill.ts'));
    expect(Object.values(module)).toContain(skill);
  });

  it('has a title and a description written for the planner: purpose, "Use when", "Not for"', () => {
    expect(skill.title.trim()).not.toBe('');
    const useWhen = skill.description.indexOf('Use when');
    const notFor = skill.description.indexOf('Not for');
    expect(useWhen, 'description has no "Use when" part').toBeGreaterThan(0);
    expect(notFor, 'description has no "Not for" part').toBeGreaterThan(useWhen);
  });

  it('names the skills it points to in "Not for" by their registered names', () => {
    const notFor = skill.description.slice(skill.description.indexOf('Not for'));
    const pointers = [...notFor.matchAll(/\(use ([a-z-]+)\)/g)].map((m) => m[1]);
    for (const pointer of pointers) expect(registry.get(pointer ?? '')?.name).toBe(pointer);
  });

  it('describes every input field', () => {
    const descriptions = fieldDescriptions(skill);
    expect(Object.keys(descriptions).length).toBeGreaterThan(0);
    for (const [field, description] of Object.entries(descriptions)) {
      expect(description?.trim(), `${name}: field "${field}" has no .describe()`).toBeTruthy();
    }
  });

  it('converts its input schema to JSON Schema for the planner', () => {
    // io: 'input' is what a model must produce; no `unrepresentable: 'any'` escape hatch.
    const schema = z.toJSONSchema(skill.input, { io: 'input' });
    expect(schema.type).toBe('object');
  });

  it('declares its risk, Kubernetes verbs and resources as data for policy', () => {
    expect(['read', 'write', 'dangerous']).toContain(skill.risk);
    expect(skill.verbs.length).toBeGreaterThan(0);
    expect(skill.resources.length).toBeGreaterThan(0);
  });

  it('has examples', () => {
    expect(skill.examples.length).toBeGreaterThan(0);
  });

  it.each(skill.examples.map((e) => [e.command, e] as const))(
    'example "%s" parses to exactly its input, which the schema accepts',
    (command, example) => {
      const parsed = parseCommand(command, registry);
      expect(parsed.kind).toBe('skill');
      if (parsed.kind !== 'skill') return;
      expect(parsed.skill.name).toBe(name);
      expect(parsed.input).toEqual(example.input);
      const validated = skill.input.safeParse(example.input);
      expect(validated.error?.issues ?? []).toEqual([]);
      expect(example.utterance.trim()).not.toBe('');
      expect(() => skill.summarize(example.input)).not.toThrow();
    },
  );

  it('answers `/wh help <command>` and `<command> --help`', () => {
    const word = commandOf(skill);
    const topic = parseCommand(`/wh help ${word}`, registry);
    expect(topic).toEqual({ kind: 'help', topic: word });
    expect(parseCommand(`/wh ${word} --help`, registry)).toEqual({ kind: 'help', topic: word });
    const result = help(registry, word);
    expect(result.summary).toBe(`${word}: ${skill.title}`);
    const text = JSON.stringify(result.sections);
    expect(text).toContain(`Usage: /wh ${word}`);
    for (const example of skill.examples)
      expect(text).toContain(JSON.stringify(example.command).slice(1, -1));
  });

  it('is listed in the `/wh help` overview', () => {
    const overview = help(registry);
    const table = overview.sections.find((s) => s.type === 'table');
    expect(table?.type === 'table' && table.rows.map((r) => r[0])).toContain(commandOf(skill));
  });
});
