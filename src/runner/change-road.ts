import { createHash } from 'node:crypto';
import type { ApprovalRecord, ApprovalStore } from '../approvals/types.ts';
import { canonicalJson } from '../audit/audit-record.ts';
import type {
  ChangeProposal,
  KubeWriter,
  KubeWriterFactory,
  Preview,
  RolloutProgress,
} from '../changes/types.ts';
import { WheelhouseError } from '../errors.ts';
import type { Decision } from '../policy/evaluate.ts';
import type { Actor, SkillContext } from '../skills/context.ts';
import type { WriteSkill } from '../skills/define-skill.ts';
import type { Section, SkillResult } from '../skills/result.ts';
import type { RunStore } from '../store/run-store.ts';
import {
  diffTable,
  followVerification,
  recordVerification,
  type VerificationDeps,
  type VerificationState,
} from './verifications.ts';

/** What the change road needs beyond the read road. */
export interface ChangeRoadDeps {
  writers: KubeWriterFactory;
  approvals: ApprovalStore;
  /** How long an approval stays open; expired means denied. @default 30 minutes */
  approvalTtlMs: number;
  /** Roll back automatically when verification fails and the proposal knows its undo. */
  autoRollback: boolean;
  newId: () => string;
  /** Where verifications are kept while they run, so a restart resumes them. */
  runs: RunStore;
  /** This process, as the owner of the verifications it follows (see VerificationDeps). */
  owner: string;
  /** @default 60 s */
  verificationLeaseMs?: number | undefined;
  /** How long after losing the API server a verification is tried again. @default 15 s */
  verificationRetryMs?: number | undefined;
}

/** Writes one audit step of a change; throws when it cannot, so the next step does not happen. */
export type AuditStep = (type: string, message: string, detail?: Record<string, unknown>) => Promise<void>;

/** Everything one change request carries along the road. */
export interface ChangeRequest {
  skill: WriteSkill;
  input: Record<string, unknown>;
  actor: Actor;
  requestId: string;
  ctx: SkillContext;
  /** Policy on the proposal (namespace, blast radius); throws POLICY_DENIED on deny. */
  decide: (proposal: ChangeProposal) => Promise<Decision>;
  audit: AuditStep;
  onProgress?: ((progress: RolloutProgress) => void) | undefined;
}

/**
 * The change road, top to bottom: propose → authorize as the user → preview (dry-run, diff) →
 * approve when policy says so → apply → verify → roll back on failure. Every step is audited
 * before the next one starts.
 */
export async function runChange(deps: ChangeRoadDeps, request: ChangeRequest): Promise<SkillResult> {
  const proposal = await request.skill.propose(request.input, request.ctx);
  if (proposal.changes.length === 0) return nothingToDo(proposal);
  const decision = await request.decide(proposal);
  const writer = deps.writers.writerAs(request.actor.kube, {
    requestId: request.requestId,
    signal: request.ctx.signal,
  });
  for (const change of proposal.changes) await writer.authorize(change);
  const previews = await previewAll(writer, proposal);
  await request.audit('change.preview', proposal.summary, { previews: previewsForAudit(previews) });

  if (decision.effect === 'require_approval') {
    const approval = await requestApproval(deps, request, proposal, previews, decision);
    return awaitingApproval(approval, proposal, previews, decision.reason);
  }
  return applyAndVerify(deps, writer, request, proposal, previews);
}

/** After the quorum: propose again as the requester, refuse on drift, then apply exactly once. */
export async function executeApproved(
  deps: ChangeRoadDeps,
  approval: ApprovalRecord,
  request: Omit<ChangeRequest, 'decide'>,
): Promise<SkillResult> {
  if (!(await deps.approvals.transition(approval.id, 'approved', 'executing'))) {
    return {
      summary: 'This change is already being carried out or was decided otherwise.',
      tone: 'info',
      sections: [],
    };
  }
  try {
    const proposal = await request.skill.propose(request.input, request.ctx);
    const writer = deps.writers.writerAs(request.actor.kube, {
      requestId: request.requestId,
      signal: request.ctx.signal,
    });
    for (const change of proposal.changes) await writer.authorize(change);
    // A target that moved on (a changed preview, or a resourceVersion the API server no longer
    // has) voids the approval: the approvers saw something else.
    const previews = await previewAll(writer, proposal).catch((e: unknown) => {
      if (e instanceof WheelhouseError && e.code === 'CONFLICT') return undefined;
      throw e;
    });
    if (!previews || previewHash(previews) !== approval.previewHash) {
      await deps.approvals.transition(
        approval.id,
        'executing',
        'voided',
        'the target changed after approval',
      );
      await request.audit('change.voided', 'the target changed between approval and execution', {
        approvalId: approval.id,
      });
      throw new WheelhouseError(
        'CONFLICT',
        `${approval.summary}: the target changed after it was approved.`,
        {
          hint: 'Ask again to see a fresh preview; the old approval is void.',
        },
      );
    }
    const result = await applyAndVerify(deps, writer, request, proposal, previews);
    await deps.approvals.transition(approval.id, 'executing', result.tone === 'error' ? 'failed' : 'done');
    return result;
  } catch (e) {
    await deps.approvals.transition(
      approval.id,
      'executing',
      'failed',
      e instanceof Error ? e.message : String(e),
    );
    throw e;
  }
}

async function previewAll(writer: KubeWriter, proposal: ChangeProposal): Promise<Preview[]> {
  const previews: Preview[] = [];
  for (const change of proposal.changes) previews.push(await writer.preview(change));
  return previews;
}

/** The hash an approval is bound to: the exact diffs and the resourceVersions they were made against. */
export function previewHash(previews: readonly Preview[]): string {
  const bound = previews.map((p) => ({ target: p.target, diff: p.diff, resourceVersion: p.resourceVersion }));
  return createHash('sha256').update(canonicalJson(bound)).digest('hex');
}

async function requestApproval(
  deps: ChangeRoadDeps,
  request: ChangeRequest,
  proposal: ChangeProposal,
  previews: Preview[],
  decision: Extract<Decision, { effect: 'require_approval' }>,
): Promise<ApprovalRecord> {
  const now = request.ctx.now();
  const { actor } = request;
  const approval: ApprovalRecord = {
    id: deps.newId(),
    requestId: request.requestId,
    status: 'pending',
    requester: { id: actor.id, name: actor.name, kubeUser: actor.kube?.user, kubeGroups: actor.kube?.groups },
    skill: request.skill.name,
    input: request.input,
    summary: proposal.summary,
    previewHash: previewHash(previews),
    required: decision.approvers,
    approvals: [],
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + deps.approvalTtlMs).toISOString(),
    where: { surface: actor.surface, channel: actor.channel, thread: actor.thread },
  };
  await deps.approvals.create(approval);
  await request.audit('change.approval-requested', proposal.summary, {
    approvalId: approval.id,
    required: approval.required,
    expiresAt: approval.expiresAt,
  });
  return approval;
}

async function applyAndVerify(
  deps: ChangeRoadDeps,
  writer: KubeWriter,
  request: Omit<ChangeRequest, 'decide'>,
  proposal: ChangeProposal,
  previews: Preview[],
): Promise<SkillResult> {
  // The intent is on record before anything changes: no audit, no change.
  await request.audit('change.apply', proposal.summary, { changes: proposal.changes.length });
  for (const change of proposal.changes) await writer.apply(change);
  if (proposal.verify.kind === 'none') {
    await request.audit('change.done', proposal.summary);
    return { summary: `Done: ${proposal.summary}.`, tone: 'success', sections: [diffSection(previews)] };
  }
  // Stored before it is followed: a restart or a lost API server resumes it (verification keeper).
  const verification = verificationDeps(deps, request.ctx.now);
  const run = await recordVerification(verification, deps.newId(), {
    requestId: request.requestId,
    skill: request.skill.name,
    summary: proposal.summary,
    actor: request.actor,
    target: proposal.verify.target,
    timeoutSeconds: proposal.verify.timeoutSeconds,
    undo: proposal.undo,
    diff: diffRows(previews),
    // Stored with the verification, so a restart during it still starts the follow-up.
    ...(proposal.followUp ? { followUp: { id: deps.newId(), ...proposal.followUp } } : {}),
  });
  // A verified change's follow-up (proposal.followUp) is started by followVerification itself.
  const { result } = await followVerification(verification, writer, run, {
    audit: request.audit,
    onProgress: request.onProgress,
    signal: request.ctx.signal,
  });
  return result;
}

/** What a verification needs from the change road's dependencies. */
export function verificationDeps(deps: ChangeRoadDeps, now: () => Date): VerificationDeps {
  return {
    runs: deps.runs,
    owner: deps.owner,
    leaseMs: deps.verificationLeaseMs,
    retryMs: deps.verificationRetryMs,
    autoRollback: deps.autoRollback,
    now,
  };
}

function diffRows(previews: readonly Preview[]): VerificationState['diff'] {
  return previews.flatMap((p) =>
    p.diff.map((d) => ({
      object: `${p.target.kind}/${p.target.name}`,
      path: d.path,
      before: show(d.before),
      after: show(d.after),
    })),
  );
}

function diffSection(previews: readonly Preview[]): Section {
  return diffTable(
    diffRows(previews),
    `${previews.length} object(s) in namespace ${previews[0]?.target.namespace ?? '?'}`,
  );
}

function show(value: unknown): string {
  if (value === undefined) return '(unset)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function previewsForAudit(previews: readonly Preview[]) {
  return previews.map((p) => ({ target: p.target, diff: p.diff, resourceVersion: p.resourceVersion }));
}

function nothingToDo(proposal: ChangeProposal): SkillResult {
  return { summary: `Nothing to change: ${proposal.summary}.`, tone: 'info', sections: [] };
}

function awaitingApproval(
  approval: ApprovalRecord,
  proposal: ChangeProposal,
  previews: readonly Preview[],
  reason: string,
): SkillResult {
  const { required } = approval;
  const who = required.users?.length ? required.users.join(', ') : `group ${required.group ?? '?'}`;
  return {
    summary: `Waiting for approval: ${proposal.summary}.`,
    tone: 'warning',
    sections: [
      diffSection(previews),
      {
        type: 'fields',
        fields: [
          { label: 'Requested by', value: requesterText(approval) },
          { label: 'Why approval', value: reason },
          { label: 'Approvers', value: `${required.quorum} from ${who}` },
          { label: 'Blast radius', value: blastRadius(proposal) },
          { label: 'Expires', value: approval.expiresAt },
          { label: 'Approval id', value: approval.id },
        ],
      },
      {
        type: 'actions',
        actions: [
          { label: 'Approve', command: `approve ${approval.id}`, style: 'primary' },
          { label: 'Deny', command: `deny ${approval.id}`, style: 'danger' },
        ],
      },
    ],
  };
}

function requesterText(approval: ApprovalRecord): string {
  const { requester } = approval;
  const who = requester.name ?? requester.id;
  return requester.kubeUser ? `${who} (acting as Kubernetes user ${requester.kubeUser})` : who;
}

function blastRadius(proposal: ChangeProposal): string {
  const { namespace, objects, replicas } = proposal.blastRadius;
  return `${objects} object(s)${replicas === undefined ? '' : `, ${replicas} replica(s)`} in ${namespace}`;
}
