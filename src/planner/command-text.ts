import type { AnySkill } from '../skills/define-skill.ts';
import { commandOf } from '../skills/registry.ts';
import { fieldsOf } from './fields.ts';

/** Words the tokenizer keeps as they are: no spaces, quotes, `=` or a leading `-`. */
const PLAIN = /^[A-Za-z0-9_./:@+][A-Za-z0-9_./:@+,-]*$/;

/**
 * The typed command that asks for exactly `input`, e.g. `scale deploy/checkout --namespace shop
 * --replicas 5`: the inverse of `parseCommand`, so a button can carry what the planner proposed and
 * a click takes the grammar's road. Values are quoted whenever the tokenizer would read them otherwise.
 */
export function commandFor(skill: AnySkill, input: Record<string, unknown>): string {
  const fields = fieldsOf(skill);
  const positional = skill.grammar.positional ?? [];
  const words = [commandOf(skill)];
  // Positional fields only while every earlier one is set: a gap would shift the next value.
  let inOrder = true;
  const named = new Set<string>();
  for (const name of positional) {
    const value = input[name];
    if (!inOrder || value === undefined || typeof value === 'boolean' || Array.isArray(value)) {
      inOrder = false;
      continue;
    }
    if (name === skill.grammar.selectorField && typeof value === 'string' && /[=!]/.test(value)) {
      // A selector as a bare word would be read as key=value words of the selector anyway.
      inOrder = false;
      continue;
    }
    words.push(quote(String(value)));
    named.add(name);
  }
  for (const field of fields) {
    const value = input[field.name];
    if (named.has(field.name) || value === undefined || value === null) continue;
    if (typeof value === 'boolean') {
      words.push(value ? `--${field.flag}` : `--no-${field.flag}`);
    } else if (Array.isArray(value)) {
      for (const item of value) words.push(`--${field.flag}`, quote(String(item)));
    } else {
      words.push(`--${field.flag}`, quote(String(value)));
    }
  }
  return words.join(' ');
}

function quote(value: string): string {
  if (PLAIN.test(value)) return value;
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}
