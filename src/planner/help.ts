import { WheelhouseError } from '../errors.ts';
import type { AnySkill } from '../skills/define-skill.ts';
import { commandOf, type SkillRegistry } from '../skills/registry.ts';
import type { SkillResult } from '../skills/result.ts';
import { didYouMean } from './did-you-mean.ts';
import { type FieldSpec, fieldsOf } from './fields.ts';

/** `/wh help` and `/wh help <command>`, generated from the registry. */
export function help(registry: SkillRegistry, topic?: string): SkillResult {
  if (!topic) return overview(registry);
  const skill = registry.byWord(topic);
  if (!skill) {
    const suggestions = didYouMean(topic, registry.words());
    throw new WheelhouseError('UNKNOWN_SKILL', `There is no command "${topic}".`, {
      hint: suggestions.length
        ? `Did you mean \`/wh help ${suggestions[0]}\`?`
        : '`/wh help` lists every command.',
    });
  }
  return helpFor(skill);
}

function overview(registry: SkillRegistry): SkillResult {
  const skills = registry.all().sort((a, b) => commandOf(a).localeCompare(commandOf(b)));
  return {
    summary: 'Wheelhouse commands',
    sections: [
      {
        type: 'table',
        columns: ['COMMAND', 'RISK', 'WHAT IT DOES'],
        rows: skills.map((s) => [commandOf(s), s.risk, s.title]),
      },
      { type: 'text', text: '`/wh help <command>` shows the options and examples of one command.' },
    ],
  };
}

/** The usage line, e.g. `/wh pods [namespace] [selector] [--unhealthy]`. */
export function usageOf(skill: AnySkill): string {
  const fields = fieldsOf(skill);
  const positional = skill.grammar.positional ?? [];
  const parts = [`/wh ${commandOf(skill)}`];
  for (const name of positional) {
    const field = fields.find((f) => f.name === name);
    if (field) parts.push(field.required ? `<${field.flag}>` : `[${field.flag}]`);
  }
  for (const field of fields) {
    if (positional.includes(field.name)) continue;
    const flag = `--${field.flag}${field.type === 'boolean' ? '' : ` ${placeholder(field)}`}`;
    parts.push(field.required ? flag : `[${flag}]`);
  }
  return parts.join(' ');
}

function placeholder(field: FieldSpec): string {
  return field.enum ? field.enum.join('|') : field.flag.toUpperCase();
}

function helpFor(skill: AnySkill): SkillResult {
  const shortOf = new Map(Object.entries(skill.grammar.short ?? {}).map(([letter, name]) => [name, letter]));
  const rows = fieldsOf(skill).map((field) => {
    const short = shortOf.get(field.name);
    const names = [`--${field.flag}`, short ? `-${short}` : undefined].filter(Boolean).join(', ');
    const extra = [
      field.required ? 'required' : undefined,
      field.default !== undefined ? `default ${JSON.stringify(field.default)}` : undefined,
      field.enum ? `one of ${field.enum.join(', ')}` : undefined,
    ]
      .filter(Boolean)
      .join('; ');
    return [names, extra ? `${field.description} (${extra})` : field.description];
  });
  const aliases = skill.grammar.aliases?.length
    ? `Also reached as: ${skill.grammar.aliases.join(', ')}.`
    : '';
  return {
    summary: `${commandOf(skill)}: ${skill.title}`,
    sections: [
      { type: 'text', text: [skill.description, aliases].filter(Boolean).join('\n') },
      { type: 'text', text: `Usage: ${usageOf(skill)}` },
      { type: 'table', columns: ['OPTION', 'MEANING'], rows },
      {
        type: 'list',
        title: 'Examples',
        items: skill.examples.map((e) => `${e.command}  — "${e.utterance}"`),
      },
      {
        type: 'fields',
        fields: [
          { label: 'Risk', value: skill.risk },
          { label: 'Kubernetes access', value: `${skill.verbs.join(', ')} ${skill.resources.join(', ')}` },
        ],
      },
    ],
  };
}
