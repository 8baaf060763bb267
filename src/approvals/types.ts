/**
 * A pending change waiting for on-call approval. It is bound to the hash of the exact previewed
 * change and to the targets' resourceVersions: drift voids it.
 */
export interface ApprovalRecord {
  id: string;
  requestId: string;
  status: ApprovalStatus;
  /** Who asked: surface user id and the kube identity the change will be applied as. */
  requester: {
    id: string;
    name?: string | undefined;
    kubeUser?: string | undefined;
    kubeGroups?: string[] | undefined;
  };
  /** The skill and its validated input, so the change can be proposed again at execution time. */
  skill: string;
  input: Record<string, unknown>;
  summary: string;
  /** sha256 of the previews (diffs and resourceVersions) the approvers saw. */
  previewHash: string;
  /** Approver group (kube group or Slack user group id) and/or explicit approver ids, and how many. */
  required: { group?: string | undefined; users?: string[] | undefined; quorum: number };
  approvals: Array<{ id: string; at: string }>;
  createdAt: string;
  expiresAt: string;
  /** Where the request was made, for updating the message (channel and message ts), and on which cluster. */
  where: {
    surface: string;
    /** The cluster the change is for, when Wheelhouse serves several; absent means its own. */
    cluster?: string | undefined;
    channel?: string | undefined;
    thread?: string | undefined;
    messageTs?: string | undefined;
  };
  decidedBy?: string | undefined;
  reason?: string | undefined;
  /** When approvers were reminded that it is about to expire (once). */
  remindedAt?: string | undefined;
}

export type ApprovalStatus =
  | 'pending'
  | 'approved'
  | 'denied'
  | 'expired'
  | 'voided'
  | 'executing'
  | 'done'
  | 'failed';

export type VoteResult =
  | { kind: 'recorded'; record: ApprovalRecord; remaining: number }
  | { kind: 'approved'; record: ApprovalRecord }
  | {
      kind: 'rejected';
      reason: 'not-pending' | 'expired' | 'self-approval' | 'already-voted' | 'unknown';
      record?: ApprovalRecord;
    };

/** Approvals in the store, so a restart or another replica carries on. Every transition is atomic. */
export interface ApprovalStore {
  create(record: ApprovalRecord): Promise<void>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  /** Adds one approver's vote; reaches `approved` when the quorum is met. Never lets the requester vote. */
  vote(id: string, approverId: string, now: Date): Promise<VoteResult>;
  /** pending → denied, with who and why. False when it was no longer pending. */
  deny(id: string, by: string, reason: string, now: Date): Promise<boolean>;
  /** Moves `from` → `to` if and only if the record is in `from`: exactly one caller wins. */
  transition(id: string, from: ApprovalStatus, to: ApprovalStatus, reason?: string): Promise<boolean>;
  /** Marks pending approvals past their expiry as expired and returns them. */
  expire(now: Date): Promise<ApprovalRecord[]>;
  /** Pending approvals, oldest first. */
  pending(): Promise<ApprovalRecord[]>;
  /** Marks a pending approval as reminded; true for exactly one caller, false if not pending or already reminded. */
  markReminded(id: string, now: Date): Promise<boolean>;
  /** Remembers where the approval message was posted. */
  setMessage(id: string, where: ApprovalRecord['where']): Promise<void>;
}
