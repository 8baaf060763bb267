import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skills } from '../../../skills/index.ts';
import { ModelUnavailableError, OpenAiChatModel } from '../../../src/planner/chat-model.ts';
import { createLlmPlanner, type PlanRequest } from '../../../src/planner/llm-planner.ts';
import { toolsFor } from '../../../src/planner/llm-tools.ts';
import { createModelInputCleaner } from '../../../src/planner/model-input.ts';
import { createRedactor } from '../../../src/redact/redactor.ts';
import { SkillRegistry } from '../../../src/skills/registry.ts';
import { inOrder, OpenAiPeer } from '../../support/openai-peer.ts';

const registry = new SkillRegistry(skills);
let peer: OpenAiPeer;

beforeAll(async () => {
  peer = await OpenAiPeer.start({ apiKey: 'sk-test-key' });
});

afterAll(async () => {
  await peer.close();
});

function planner(model: OpenAiChatModel, callTimeoutMs = 5_000) {
  return createLlmPlanner({
    registry,
    model,
    budget: { maxSteps: 4, maxTokens: 100_000, maxMs: 30_000, callTimeoutMs },
    clean: createModelInputCleaner(createRedactor(), []),
    maxToolOutputChars: 4000,
    pricing: { promptPerMillion: 0.5, completionPerMillion: 1.5 },
  });
}

const request = (text: string, read: PlanRequest['read']): PlanRequest => ({
  text,
  actor: { surface: 'console', id: 'tester', kube: undefined },
  read,
});

describe('the planner over the OpenAI SDK against a Chat Completions peer', () => {
  it('sends the derived tools, replays tool results in valid wire order, and counts the usage', async () => {
    peer.setScript(
      inOrder([
        {
          toolCalls: [{ name: 'pods-list', arguments: { namespace: 'shop' } }],
          usage: { prompt: 900, completion: 30 },
        },
        {
          toolCalls: [
            {
              name: 'answer',
              arguments: { answer: 'crashy is crash-looping.', evidence: ['CrashLoopBackOff'] },
            },
          ],
          usage: { prompt: 1100, completion: 40 },
        },
      ]),
    );
    peer.clearRequests();
    const model = new OpenAiChatModel({ baseUrl: peer.baseUrl, model: 'gpt-test', apiKey: 'sk-test-key' });
    const outcome = await planner(model).plan(
      request('what is crashing in shop?', async () => ({
        summary: '2 pods',
        sections: [{ type: 'table', columns: ['NAME', 'STATUS'], rows: [['crashy-1', 'CrashLoopBackOff']] }],
      })),
    );
    expect(outcome).toMatchObject({
      kind: 'answer',
      answer: 'crashy is crash-looping.',
      usage: { model: 'gpt-test', calls: 2, promptTokens: 2000, completionTokens: 70, costUsd: 0.001105 },
    });
    const [first, second] = peer.requests();
    expect(first?.authorization).toBe('Bearer sk-test-key');
    expect(first?.model).toBe('gpt-test');
    expect(first?.tools.map((t) => t.function.name)).toEqual(toolsFor(registry).map((t) => t.name));
    expect(first?.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(second?.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    const tool = second?.messages[3];
    expect(tool?.role === 'tool' && tool.content).toContain('crashy-1');
  });

  it('says the endpoint cannot be reached, refused the key, failed, or was too slow', async () => {
    const cases: Array<[OpenAiChatModel, RegExp, (() => void) | undefined]> = [
      [new OpenAiChatModel({ baseUrl: 'http://127.0.0.1:9/v1', model: 'm' }), /cannot be reached/, undefined],
      [
        new OpenAiChatModel({ baseUrl: peer.baseUrl, model: 'm', apiKey: 'wrong' }),
        /refused Wheelhouse's key \(HTTP 401\)/,
        undefined,
      ],
      [
        new OpenAiChatModel({ baseUrl: peer.baseUrl, model: 'm', apiKey: 'sk-test-key' }),
        /endpoint failed \(HTTP 503\)/,
        () => peer.setScript(inOrder([{ status: 503, message: 'overloaded' }])),
      ],
      [
        new OpenAiChatModel({ baseUrl: peer.baseUrl, model: 'm', apiKey: 'sk-test-key' }),
        /did not answer within 300 ms/,
        () => peer.setScript(inOrder([{ hangMs: 5_000 }])),
      ],
    ];
    for (const [model, reason, arrange] of cases) {
      arrange?.();
      const p = planner(model, 300);
      const outcome = await p.plan(request('why?', async () => ({ summary: '', sections: [] })));
      expect(outcome.kind).toBe('unavailable');
      expect(outcome.kind === 'unavailable' && outcome.reason).toMatch(reason);
      expect(p.unavailable()).toMatch(reason);
    }
  });

  it('maps a 400 to a non-retryable failure', async () => {
    peer.setScript(inOrder([{ status: 400, message: 'bad tool schema' }]));
    const model = new OpenAiChatModel({ baseUrl: peer.baseUrl, model: 'm', apiKey: 'sk-test-key' });
    await expect(
      model.complete(
        { messages: [{ role: 'user', content: 'hi' }], tools: [] },
        {
          signal: new AbortController().signal,
          timeoutMs: 2_000,
        },
      ),
    ).rejects.toMatchObject({ retryable: false, message: /rejected the request \(HTTP 400\)/ });
    expect(ModelUnavailableError.name).toBe('ModelUnavailableError');
  });

  it('speaks streaming Chat Completions like a real server (peer self-check with the SDK)', async () => {
    peer.setScript(
      inOrder([
        {
          content: 'Hello from the stream.',
          toolCalls: [{ name: 'pods-list', arguments: { namespace: 'shop' } }],
        },
      ]),
    );
    const client = new OpenAI({ baseURL: peer.baseUrl, apiKey: 'sk-test-key', maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let args = '';
    let name = '';
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      text += delta?.content ?? '';
      for (const call of delta?.tool_calls ?? []) {
        name += call.function?.name ?? '';
        args += call.function?.arguments ?? '';
      }
    }
    expect(text).toBe('Hello from the stream.');
    expect([name, JSON.parse(args)]).toEqual(['pods-list', { namespace: 'shop' }]);
  });

  it('rejects a tool message that answers no tool call, as OpenAI does', async () => {
    const response = await fetch(`${peer.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-key' },
      body: JSON.stringify({
        model: 'm',
        messages: [{ role: 'tool', tool_call_id: 'x', content: 'orphan' }],
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/must be a response to a preceeding message with 'tool_calls'/);
  });
});
