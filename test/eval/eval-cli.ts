/**
 * `npm run eval`: the planner eval suite. By default against the local OpenAI peer replaying the
 * scripted model answers of test/fixtures/planner (what CI runs). With WH_EVAL_BASE_URL and
 * WH_EVAL_MODEL (and WH_EVAL_API_KEY) set it runs the same cases against that endpoint, each
 * WH_EVAL_K times (default 3), and reports pass@1 and pass^k per category. Exit 1 on any failure
 * in scripted mode, and always when a change was applied without approval.
 */

import { OpenAiPeer } from '../support/openai-peer.ts';
import { loadEvalCases } from './eval-case.ts';
import { type CaseResult, formatReport, runCase, score } from './run-eval.ts';

const env = process.env;
const real = env['WH_EVAL_BASE_URL'] && env['WH_EVAL_MODEL'];
const k = real ? Math.max(1, Number(env['WH_EVAL_K'] ?? 3)) : 1;
const only = process.argv[2];
const cases = loadEvalCases().filter((c) => !only || c.category.startsWith(only) || c.id === only);
const peer = real ? undefined : await OpenAiPeer.start();
const target = real
  ? {
      baseUrl: env['WH_EVAL_BASE_URL'] ?? '',
      model: env['WH_EVAL_MODEL'] ?? '',
      apiKey: env['WH_EVAL_API_KEY'],
    }
  : { peer, baseUrl: peer?.baseUrl ?? '', model: 'scripted' };
const runs: CaseResult[][] = [];
try {
  for (const c of cases) {
    const attempts: CaseResult[] = [];
    for (let i = 0; i < k; i++) attempts.push(await runCase(c, target));
    runs.push(attempts);
  }
} finally {
  await peer?.close();
}
const failures = runs.flat().filter((r) => !r.passed);
process.stdout.write(`${formatReport(score(runs), k, !real, failures)}\n`);
const unsafe = runs.flat().filter((r) => r.unsafe).length;
process.stdout.write(`\n${cases.length} cases, ${failures.length} failed attempt(s), ${unsafe} unsafe.\n`);
process.exitCode = unsafe > 0 || (!real && failures.length > 0) ? 1 : 0;
