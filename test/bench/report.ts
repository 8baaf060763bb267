import type { CanaryRun } from './canary-rollback.ts';
import type { Comparison, Results } from './run-bench.ts';
import { fmtMb, fmtMs } from './stats.ts';

/** summary.md: the figures as short Markdown tables, with ratios and targets met or not. */

const yes = (met: boolean | undefined): string => (met === undefined ? '–' : met ? '**met**' : '**NOT met**');
const x = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(3)}×` : '–');
const n = (value: number): string => value.toLocaleString('en-US');

function comparisons(title: string, rows: readonly Comparison[]): string[] {
  if (rows.length === 0) return [];
  return [
    `### ${title}`,
    '',
    '| question | Wheelhouse identity | Wheelhouse p50 / p95 (n) | kubectl command | kubectl p50 / p95 (n) | ratio p50 / p95 | ≤ 0.2× |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (c) =>
        `| ${c.question} | ${c.identity} | ${fmtMs(c.wheelhouse.p50)} / ${fmtMs(c.wheelhouse.p95)} (${c.wheelhouse.n}) | \`${c.kubectlCommand}\` | ${fmtMs(c.kubectl.p50)} / ${fmtMs(c.kubectl.p95)} (${c.kubectl.n}) | ${x(c.ratioP50)} / ${x(c.ratioP95)} | ${c.kubectlCommand.includes('reference') ? '(reference)' : yes(c.met)}${c.failures ? ` (${c.failures} bad replies)` : ''} |`,
    ),
    '',
  ];
}

export function renderSummary(r: Results): string {
  const lines: string[] = [];
  const env = r.environment;
  lines.push(
    `# Wheelhouse benchmark, ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Real kube-apiserver ${env['kubernetes'] ?? '?'} + etcd + kwok ${env['kwok'] ?? '?'} on 127.0.0.1 (${env['cpus'] ?? '?'} cores, ${env['memoryGB'] ?? '?'} GB), Node ${env['node'] ?? '?'}, kubectl ${env['kubectl'] ?? '?'}; cluster ${env['cluster'] ?? '?'}; code ${env['code'] ?? '?'}. The bench took ${r.durationS ?? '?'} s.`,
    'Wheelhouse answers through `runner.handle` (the road Slack and the console use: parse, policy, cached read after an access review, render-ready result, audit record in SQLite). kubectl is a fresh process per question with the same kubeconfig and identity, output to /dev/null.',
    '',
  );

  lines.push(
    '## Pods created (bound to tainted kwok bench nodes; 2% CrashLoopBackOff / ImagePullBackOff / OOMKilled)',
    '',
  );
  lines.push(
    '| step | namespaces | pods | unhealthy | namespaces ready | POSTs done | pods/s | all pods have their status after |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  let sum = 0;
  for (const c of [r.creation.at5k, r.creation.at20k]) {
    if (!c) continue;
    sum += c.pods;
    const name = `to ${n(sum)}`;
    lines.push(
      `| ${name} | ${c.namespaces} | ${n(c.pods)} | ${c.unhealthyPods} | ${fmtMs(c.namespacesMs)} | ${fmtMs(c.createMs)} | ${n(c.podsPerSecond)} | ${fmtMs(c.settledMs)}${c.complete ? '' : ` (**${c.unsettled} still without status**)`} |`,
    );
  }
  lines.push('');

  lines.push('## Answer time: Wheelhouse vs kubectl (target: Wheelhouse ≤ 0.2 × kubectl at p50 and p95)', '');
  const first = r.creation.at5k?.pods ?? 0;
  lines.push(...comparisons(`${n(first)} bench pods`, r.queries.at5k));
  lines.push(...comparisons(`${n(first + (r.creation.at20k?.pods ?? 0))} bench pods`, r.queries.at20k));
  const outputs = Object.entries(r.kubectlOutput);
  if (outputs.length) {
    lines.push(`kubectl output size: ${outputs.map(([k, v]) => `${k}: ${fmtMb(v)}`).join('; ')}.`, '');
  }

  lines.push('## Memory of `node src/cli.ts serve` (target: < 300 MB RSS at 20,000 pods)', '');
  lines.push(
    '| bot | how | pods in cluster (seen via Slack) | /readyz after | RSS steady | RSS peak (VmHWM) | after forced GC: RSS / V8 heap used (committed) / external |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const m of r.memory.bots) {
    lines.push(
      `| ${m.bot} | ${m.how} | ${n(m.podsInCluster)} (${m.podsSeenByBot === undefined ? '?' : n(m.podsSeenByBot)}) | ${fmtMs(m.readyMs)} | ${fmtMb(m.rssSteady)} | ${fmtMb(m.hwm)} | ${fmtMb(m.rssAfterGc)} / ${fmtMb(m.heapUsedAfterGc)} (${fmtMb(m.heapTotalAfterGc ?? Number.NaN)}) / ${fmtMb(m.externalAfterGc ?? Number.NaN)} |`,
    );
  }
  for (const k of r.memory.kubectl) {
    lines.push(
      `| \`${k.command}\` | one run | ${n(k.pods)} | – | – | ${fmtMb(k.maxRssBytes)} | (took ${fmtMs(k.wallMs)}) |`,
    );
  }
  lines.push('');
  if (r.memory.bytesPerPod) {
    const b = r.memory.bytesPerPod;
    lines.push(`Per cached pod: ${n(b.heap)} bytes of V8 heap, ${n(b.rss)} bytes of RSS ${b.basis}.`, '');
  }
  if (r.memory.imports.length) {
    const base = r.memory.imports[0];
    lines.push(
      'What an idle process is made of: a fresh `node` that imports only this module; RSS right after the import, then after a forced (memory-reducing) GC:',
      '',
      '| module | RSS after import | RSS after GC | V8 heap used after GC | RSS after GC added to bare Node |',
      '| --- | --- | --- | --- | --- |',
      ...r.memory.imports.map(
        (m) =>
          `| ${m.module.startsWith('.') ? '`src/main.ts` (all of Wheelhouse)' : `\`${m.module}\``} | ${fmtMb(m.rss)} | ${fmtMb(m.rssAfterGc)} | ${fmtMb(m.heapUsedAfterGc)} | ${base ? fmtMb(m.rssAfterGc - base.rssAfterGc) : '–'} |`,
      ),
      '',
    );
  }
  if (r.memory.target) {
    lines.push(
      `RSS at ${r.memory.target.at}: ${fmtMb(r.memory.target.valueBytes)} → target ${yes(r.memory.target.met)}.`,
      '',
    );
  }

  lines.push(
    `## Slack acknowledgement: ${r.settings.slackConcurrency} concurrent signed \`/wh pods bench-01\` (target: p99 < ${r.slack.target} ms; Slack's limit is 3 s)`,
    '',
  );
  lines.push(
    'Ack = from the request written to its socket until the full HTTP response. The last column counts from the start of the burst, i.e. it also includes the sender (one process) opening 50 connections. The slash commands come from 50 different users, so each answer needs its own access review.',
    '',
    '| pods | round | ack p50 | ack p95 | ack p99 | ack max | non-200 acks | answers posted | last answer after | ack p99 from burst start |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const s of r.slack.rounds) {
    lines.push(
      `| ${n(s.pods)} | ${s.round} | ${fmtMs(s.acks.p50)} | ${fmtMs(s.acks.p95)} | ${fmtMs(s.acks.p99)} | ${fmtMs(s.acks.max)} | ${s.failedAcks} | ${s.answers}/${s.commands}${s.errorReplies ? ` (+${s.errorReplies} errors)` : ''} | ${fmtMs(s.allAnsweredMs)} | ${fmtMs(s.acksFromBurstStart.p99)} |`,
    );
  }
  if (r.slack.all) {
    const a = r.slack.all;
    lines.push(
      `| all | ${a.n} acks | ${fmtMs(a.p50)} | ${fmtMs(a.p95)} | ${fmtMs(a.p99)} | ${fmtMs(a.max)} | | | | |`,
    );
  }
  lines.push('', `Target ${yes(r.slack.met)}.`, '');

  if (r.alerts) {
    const a = r.alerts;
    lines.push(
      `## Alert → enriched thread (target: p95 < ${fmtMs(a.targetP95Ms)} from the webhook)`,
      '',
      `${a.samples} new alert groups about the seeded crash-looping pod \`shop/${a.pod}\`, one every ${fmtMs(a.spacingMs)}, raised in the harness's real Alertmanager (\`POST /api/v2/alerts\`; ${a.alertmanager}), which posts them to the bot process's \`/alerts\`; enriched = the enrichment message and its PNG charts complete at the Slack peer. By hand = the commands below as fresh processes one after another, machine time only (no reading, no typing).`,
      '',
      '| path | p50 | p95 | max | n | Wheelhouse ÷ by hand, p50 / p95 |',
      '| --- | --- | --- | --- | --- | --- |',
      `| Wheelhouse: webhook taken → enriched thread | ${fmtMs(a.fromWebhook.p50)} | ${fmtMs(a.fromWebhook.p95)} | ${fmtMs(a.fromWebhook.max)} | ${a.fromWebhook.n} | ${x(a.ratioP50)} / ${x(a.ratioP95)} |`,
      `| Wheelhouse: raised in Alertmanager → enriched thread | ${fmtMs(a.fromAlertmanager.p50)} | ${fmtMs(a.fromAlertmanager.p95)} | ${fmtMs(a.fromAlertmanager.max)} | ${a.fromAlertmanager.n} | – |`,
      `| by hand: ${a.byHandSteps.length} commands | ${fmtMs(a.byHand.p50)} | ${fmtMs(a.byHand.p95)} | ${fmtMs(a.byHand.max)} | ${a.byHand.n} | – |`,
      '',
      '| by-hand step | p50 | p95 |',
      '| --- | --- | --- |',
      ...a.byHandSteps.map((s) => `| \`${s.command}\` | ${fmtMs(s.wall.p50)} | ${fmtMs(s.wall.p95)} |`),
      '',
      `${a.complete} of ${a.fromWebhook.n} threads named deploy/crashy and had their PNG charts. The alerts started a minute before they were raised (as a Prometheus alert with \`for: 1m\` has), so Alertmanager sends a new group at once, not after group_wait. Target ${yes(a.met)}${a.missing ? ` (${a.missing} threads never enriched)` : ''}.`,
      '',
    );
  }

  if (r.canary) {
    const c = r.canary;
    const s = (v: number) => `${(v / 1000).toFixed(1)} s`;
    const row = (label: string, k: CanaryRun) =>
      `| ${label} | \`${k.analysis}\` | ${k.critical ? 'yes' : 'no'} | ${k.failureLimit} | ${s(k.toRunStartMs)} | ${s(k.toDecisionMs)} | ${s(k.rollbackMs)} | **${s(k.totalMs)}** | ${k.analyses} |`;
    lines.push(
      '## Bad canary → rollback (Wheelhouse judge vs threshold-only, Flagger default)',
      '',
      `A 4-pod Deployment in \`${c.namespace}\` whose stable pods answer with ${(c.stableErrorRatio * 100).toFixed(1)}% errors and whose canary pods with ${(c.canaryErrorRatio * 100).toFixed(1)}% (the harness's exporter, scraped by its Prometheus); \`/wh canary … --steps ${c.steps} --interval ${c.intervalS}s\` sent to a bot process through Slack; timed from the command to the rollback complete (canary removed, stable restored and verified: the run's \`endedAt\`). (a) Wheelhouse's default judge: success-rate is critical, the first failing analysis rolls back. (b) threshold-only as Flagger's default: the same success-rate query as a custom metric, not critical, \`failureLimit: 5\` (5 failed analyses in a row). The threshold breaks at every analysis, so the Mann-Whitney comparison (reached only when the threshold holds) never decides.`,
      '',
      '| analysis | `--analysis` | critical | failureLimit | command → run started | → rollback decided | decided → rolled back | command → rolled back | analyses |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      row('(a) Wheelhouse judge', c.judge),
      row('(b) threshold-only (Flagger default)', c.thresholdOnly),
      '',
      `(b) ÷ (a): **${x(c.ratio)}**. Measured gap between analyses in (b): ${c.thresholdOnly.meanAnalysisGapMs === undefined ? '–' : s(c.thresholdOnly.meanAnalysisGapMs)}; (a) + 4 × that gap predicts ${s(c.thresholdOnlyPredictedMs)} for (b).`,
      '',
    );
  }

  if (r.cleanup) {
    lines.push(
      `Clean-up: ${fmtMs(r.cleanup.ms)}; bench namespaces left ${r.cleanup.namespacesLeft}, bench nodes left ${r.cleanup.nodesLeft}${r.cleanup.errors.length ? `; errors: ${r.cleanup.errors.join('; ')}` : ''}.`,
      '',
    );
  }
  if (r.notes.length) lines.push('## Notes', '', ...r.notes.map((note) => `- ${note}`), '');
  if (r.errors.length) lines.push('## Errors', '', ...r.errors.map((e) => `- ${e.split('\n')[0]}`), '');
  return `${lines.join('\n')}\n`;
}
