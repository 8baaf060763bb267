import { describe, expect, it } from 'vitest';
import { isWheelhouseError } from '../../../src/errors.ts';
import { parseCommand } from '../../../src/planner/grammar.ts';
import { help, usageOf } from '../../../src/planner/help.ts';
import { SkillRegistry } from '../../../src/skills/registry.ts';
import { changeThing, failing, listThings, readLogs } from '../../support/test-skills.ts';

const registry = new SkillRegistry([listThings, readLogs, failing, changeThing]);

function parse(text: string) {
  const command = parseCommand(text, registry);
  if (command.kind !== 'skill') throw new Error(`expected a skill command, got ${command.kind}`);
  return { skill: command.skill.name, input: command.input };
}

function errorOf(text: string) {
  try {
    parseCommand(text, registry);
  } catch (e) {
    if (isWheelhouseError(e)) return e;
    throw e;
  }
  throw new Error(`"${text}" parsed without error`);
}

describe('parseCommand', () => {
  it.each([
    ['/wh things shop', { namespace: 'shop' }],
    [
      'things shop app=checkout --unhealthy',
      { namespace: 'shop', selector: 'app=checkout', unhealthy: true },
    ],
    ['things -n shop app=checkout tier!=web', { namespace: 'shop', selector: 'app=checkout,tier!=web' }],
    ['things -A --unhealthy', { allNamespaces: true, unhealthy: true }],
    ['things --all-namespaces --no-unhealthy', { allNamespaces: true, unhealthy: false }],
    ['<@U123ABC> th shop', { namespace: 'shop' }],
    ['things namespace=shop', { namespace: 'shop' }],
  ])('%s', (text, input) => {
    expect(parse(text)).toEqual({ skill: 'things-list', input });
  });

  it('reads flags with values, quoted strings and numbers', () => {
    expect(
      parse('/wh logs deploy/checkout -n shop --since 15m --grep "time out" --tail 20 --previous'),
    ).toEqual({
      skill: 'thing-logs',
      input: {
        target: 'deploy/checkout',
        namespace: 'shop',
        since: '15m',
        grep: 'time out',
        tail: 20,
        previous: true,
      },
    });
    expect(parse('logs deploy/checkout --namespace=shop --grep=a=b')).toEqual({
      skill: 'thing-logs',
      input: { target: 'deploy/checkout', namespace: 'shop', grep: 'a=b' },
    });
  });

  it('treats Slack smart quotes as quotes', () => {
    expect(parse('logs deploy/x -n shop --grep \u201cconnection reset\u201d').input['grep']).toBe(
      'connection reset',
    );
  });

  it('answers help for empty text, help, and --help', () => {
    expect(parseCommand('/wh', registry)).toEqual({ kind: 'help', topic: undefined });
    expect(parseCommand('help logs', registry)).toEqual({ kind: 'help', topic: 'logs' });
    expect(parseCommand('logs --help', registry)).toEqual({ kind: 'help', topic: 'logs' });
  });

  it('suggests the closest command for a typo', () => {
    const error = errorOf('/wh thigns shop');
    expect(error.code).toBe('UNKNOWN_SKILL');
    expect(error.message).toContain('"thigns"');
    expect(error.hint).toContain('`things`');
  });

  it('suggests the closest flag for a typo', () => {
    const error = errorOf('things shop --unhealty');
    expect(error.code).toBe('GRAMMAR');
    expect(error.hint).toContain('--unhealthy');
  });

  it.each([
    ['logs deploy/x -n shop --since', 'GRAMMAR', '--since needs a value'],
    ['logs deploy/x -n shop --tail many', 'GRAMMAR', 'must be a number'],
    ['logs deploy/x -n shop extra', 'GRAMMAR', 'did not expect "extra"'],
    ['logs deploy/x -n shop --grep "open', 'GRAMMAR', 'not closed'],
    ['things -x', 'GRAMMAR', 'no option -x'],
    ['logs deploy/x', 'INVALID_INPUT', '--namespace is required'],
    ['logs deploy/x -n Shop_1', 'INVALID_INPUT', '--namespace must be a DNS label'],
    ['logs deploy/x -n shop --since 5 minutes', 'GRAMMAR', 'did not expect "minutes"'],
    ['logs deploy/x -n shop --since 5min', 'INVALID_INPUT', '--since must be a duration'],
  ])('rejects %s', (text, code, message) => {
    const error = errorOf(text);
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
    expect(error.hint).toBeTruthy();
  });

  it('reports every invalid field at once', () => {
    const error = errorOf('logs "" -n BAD --tail -3');
    expect(error.message).toContain('<target>');
    expect(error.message).toContain('--namespace');
    expect(error.message).toContain('--tail');
  });
});

describe('help', () => {
  it('lists every command with its risk', () => {
    const result = help(registry);
    const table = result.sections.find((s) => s.type === 'table');
    expect(table?.type === 'table' && table.rows.map((r) => r[0])).toEqual([
      'change',
      'fail',
      'logs',
      'things',
    ]);
    expect(table?.type === 'table' && table.rows.find((r) => r[0] === 'change')?.[1]).toBe('write');
  });

  it('derives usage and options from the schema', () => {
    expect(usageOf(readLogs)).toBe(
      '/wh logs <target> --namespace NAMESPACE [--since SINCE] [--tail TAIL] [--grep GREP] [--previous]',
    );
    const result = help(registry, 'logs');
    const options = result.sections.find((s) => s.type === 'table');
    expect(options?.type === 'table' && options.rows.find((r) => r[0] === '--namespace, -n')?.[1]).toContain(
      'required',
    );
  });

  it('suggests a command for help on a typo', () => {
    expect(() => help(registry, 'lgos')).toThrow(/no command "lgos"/);
  });
});

describe('invalid values', () => {
  it('names a wrong type as wrong, not as missing', () => {
    let message = '';
    try {
      parseCommand('logs deploy/x -n shop --tail 2.5', registry);
    } catch (e) {
      message = e instanceof Error ? e.message : '';
    }
    expect(message).toContain('--tail');
    expect(message).not.toContain('is required');
  });
});
