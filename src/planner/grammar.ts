import type { z } from 'zod';
import { WheelhouseError } from '../errors.ts';
import type { AnySkill } from '../skills/define-skill.ts';
import { commandOf, type SkillRegistry } from '../skills/registry.ts';
import { didYouMean } from './did-you-mean.ts';
import { camel, type FieldSpec, fieldsOf } from './fields.ts';
import { type Token, tokenize } from './tokenize.ts';

/** What a line of chat asks for: help, or one skill with its (not yet validated) input. */
export type Command =
  | { kind: 'help'; topic?: string | undefined }
  | { kind: 'skill'; skill: AnySkill; input: Record<string, unknown> }
  /** A vote on a pending change, typed or sent by an Approve button. */
  | { kind: 'approve'; approvalId: string }
  | { kind: 'deny'; approvalId: string; reason: string };

const LEADING_NOISE = /^(\s*(<@[A-Z0-9]+(\|[^>]*)?>|\/wh\b|wh\b)\s*)+/i;
const KEY_VALUE = /^([A-Za-z0-9][\w./-]*)(!=|==|=)(.*)$/s;

/** Strips the slash command or a bot mention from the front of chat text. */
export function stripPrefix(text: string): string {
  return text.replace(LEADING_NOISE, '').trim();
}

/**
 * Parses chat text such as `pods shop app=checkout --unhealthy` into a command, using only what
 * each skill's schema and grammar hints declare. Throws GRAMMAR, UNKNOWN_SKILL or INVALID_INPUT
 * with a "did you mean" where one is close.
 */
export function parseCommand(text: string, registry: SkillRegistry): Command {
  const tokens = tokenize(stripPrefix(text));
  const [first, ...rest] = tokens;
  if (!first || /^(help|-h|--help|\?)$/i.test(first.text)) {
    return { kind: 'help', topic: rest[0]?.text };
  }
  const verb = first.text.toLowerCase();
  if (verb === 'approve' || verb === 'deny') return decision(verb, rest);
  const skill = registry.byWord(first.text);
  if (!skill) {
    const suggestions = didYouMean(first.text, registry.words());
    throw new WheelhouseError('UNKNOWN_SKILL', `I don't know the command "${first.text}".`, {
      hint: suggestions.length
        ? `Did you mean ${suggestions.map((s) => `\`${s}\``).join(' or ')}? \`/wh help\` lists every command.`
        : '`/wh help` lists every command.',
    });
  }
  if (rest.some((t) => !t.quoted && /^(--help|-h)$/.test(t.text)))
    return { kind: 'help', topic: commandOf(skill) };
  const input = readInput(skill, rest);
  validate(skill, input);
  return { kind: 'skill', skill, input };
}

function decision(verb: 'approve' | 'deny', rest: Token[]): Command {
  const [id, ...reason] = rest;
  if (!id || !/^[A-Za-z0-9-]{6,64}$/.test(id.text)) {
    throw new WheelhouseError('GRAMMAR', `\`${verb}\` needs the id of a pending change.`, {
      hint: `Write \`${verb} <approval id>\`${verb === 'deny' ? ' and a reason' : ''}; the id is in the approval request.`,
    });
  }
  if (verb === 'approve') return { kind: 'approve', approvalId: id.text };
  const text = reason
    .map((t) => t.text)
    .join(' ')
    .trim();
  return { kind: 'deny', approvalId: id.text, reason: text || 'no reason given' };
}

function readInput(skill: AnySkill, tokens: Token[]): Record<string, unknown> {
  const fields = fieldsOf(skill);
  const byName = new Map(fields.map((f) => [f.name, f]));
  const { positional = [], selectorField, short = {} } = skill.grammar;
  const input: Record<string, unknown> = {};
  const pending = [...positional];
  const usage = `\`/wh help ${commandOf(skill)}\` shows how to use it.`;

  const set = (field: FieldSpec, raw: string | true): void => {
    const value = coerce(skill, field, raw);
    if (field.type === 'array') {
      const list = Array.isArray(input[field.name]) ? (input[field.name] as unknown[]) : [];
      input[field.name] = [...list, value];
    } else if (field.name === selectorField && typeof input[field.name] === 'string') {
      input[field.name] = `${input[field.name]},${value}`;
    } else {
      input[field.name] = value;
    }
    const index = pending.indexOf(field.name);
    if (index !== -1 && field.name !== selectorField) pending.splice(index, 1);
  };

  const flagField = (name: string): FieldSpec => {
    const field = byName.get(camel(name)) ?? byName.get(name);
    if (field) return field;
    const suggestions = didYouMean(
      name,
      fields.map((f) => f.flag),
    );
    throw new WheelhouseError('GRAMMAR', `\`${commandOf(skill)}\` has no option --${name}.`, {
      hint: suggestions.length ? `Did you mean --${suggestions[0]}? ${usage}` : usage,
    });
  };

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (!token) continue;
    const { text } = token;
    const takeValue = (flag: string): string => {
      const next = tokens[i + 1];
      if (!next || (!next.quoted && /^--?[A-Za-z]/.test(next.text))) {
        throw new WheelhouseError('GRAMMAR', `The option ${flag} needs a value.`, { hint: usage });
      }
      i++;
      return next.text;
    };

    if (!token.quoted && text.startsWith('--') && text.length > 2) {
      const [name = '', inline] = splitOnce(text.slice(2), '=');
      if (
        name.startsWith('no-') &&
        !byName.has(camel(name)) &&
        byName.get(camel(name.slice(3)))?.type === 'boolean'
      ) {
        input[camel(name.slice(3))] = false;
        continue;
      }
      const field = flagField(name);
      set(
        field,
        field.type === 'boolean' && inline === undefined ? true : (inline ?? takeValue(`--${name}`)),
      );
    } else if (!token.quoted && /^-[A-Za-z]$/.test(text)) {
      const name = short[text.slice(1)];
      if (!name) {
        throw new WheelhouseError('GRAMMAR', `\`${commandOf(skill)}\` has no option ${text}.`, {
          hint: usage,
        });
      }
      const field = flagField(name);
      set(field, field.type === 'boolean' ? true : takeValue(text));
    } else if (!token.quoted && KEY_VALUE.test(text) && !(pending[0] && isRefLike(text))) {
      const [, key = '', op = '=', value = ''] = KEY_VALUE.exec(text) ?? [];
      const field = op === '=' ? byName.get(camel(key)) : undefined;
      if (field && field.name !== selectorField) set(field, value);
      else if (selectorField) set(byName.get(selectorField) ?? flagField(selectorField), text);
      else {
        throw new WheelhouseError('GRAMMAR', `\`${commandOf(skill)}\` has no field "${key}".`, {
          hint: usage,
        });
      }
    } else {
      const next = pending.find((name) => input[name] === undefined);
      if (!next) {
        throw new WheelhouseError('GRAMMAR', `I did not expect "${text}" here.`, { hint: usage });
      }
      set(byName.get(next) ?? flagField(next), text);
    }
  }
  return input;
}

/** `deploy/x` style words are never key=value pairs even when they hold "=". */
function isRefLike(text: string): boolean {
  return /^[a-z]+\/[^=]+$/.test(text);
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const index = text.indexOf(separator);
  return index === -1 ? [text, undefined] : [text.slice(0, index), text.slice(index + 1)];
}

function coerce(skill: AnySkill, field: FieldSpec, raw: string | true): unknown {
  if (raw === true) return true;
  switch (field.type) {
    case 'boolean':
      if (/^(true|yes|on)$/i.test(raw)) return true;
      if (/^(false|no|off)$/i.test(raw)) return false;
      throw new WheelhouseError('GRAMMAR', `--${field.flag} is true or false, not "${raw}".`);
    case 'number':
    case 'integer': {
      const n = Number(raw);
      if (raw.trim() === '' || Number.isNaN(n)) {
        throw new WheelhouseError('GRAMMAR', `--${field.flag} must be a number, not "${raw}".`, {
          hint: `\`/wh help ${commandOf(skill)}\` shows how to use it.`,
        });
      }
      return n;
    }
    default:
      return raw;
  }
}

/** Validates early so the user gets every problem at once, named by flag. */
function validate(skill: AnySkill, input: Record<string, unknown>): void {
  const result = skill.input.safeParse(input);
  if (result.success) return;
  throw inputError(skill, result.error);
}

/** Turns a zod error into one readable message naming each flag and what it expects. */
export function inputError(skill: AnySkill, error: z.ZodError): WheelhouseError {
  const fields = new Map(fieldsOf(skill).map((f) => [f.name, f]));
  const problems = error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '');
    const field = fields.get(name);
    const label = field ? describeField(skill, field) : name || 'input';
    const message =
      // zod 4 leaves `issue.input` out unless asked, so a missing value is told by its message.
      issue.code === 'invalid_type' && /received undefined$/.test(issue.message)
        ? 'is required'
        : issue.code === 'invalid_value' && field?.enum
          ? `must be one of ${field.enum.join(', ')}`
          : issue.message;
    return `${label} ${message}`;
  });
  return new WheelhouseError('INVALID_INPUT', problems.join('; '), {
    hint: `\`/wh help ${commandOf(skill)}\` shows how to use it.`,
    detail: error.issues,
  });
}

function describeField(skill: AnySkill, field: FieldSpec): string {
  return skill.grammar.positional?.includes(field.name) ? `<${field.flag}>` : `--${field.flag}`;
}
