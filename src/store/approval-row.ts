import { z } from 'zod';
import type { ApprovalRecord } from '../approvals/types.ts';

const approvalSchema = z.object({
  id: z.string(),
  requestId: z.string(),
  status: z.enum(['pending', 'approved', 'denied', 'expired', 'voided', 'executing', 'done', 'failed']),
  requester: z.object({
    id: z.string(),
    name: z.string().optional(),
    kubeUser: z.string().optional(),
    kubeGroups: z.array(z.string()).optional(),
  }),
  skill: z.string(),
  input: z.record(z.string(), z.unknown()),
  summary: z.string(),
  previewHash: z.string(),
  required: z.object({
    group: z.string().optional(),
    users: z.array(z.string()).optional(),
    quorum: z.number().int(),
  }),
  approvals: z.array(z.object({ id: z.string(), at: z.string() })),
  createdAt: z.string(),
  expiresAt: z.string(),
  where: z.object({
    surface: z.string(),
    cluster: z.string().optional(),
    channel: z.string().optional(),
    thread: z.string().optional(),
    messageTs: z.string().optional(),
  }),
  decidedBy: z.string().optional(),
  reason: z.string().optional(),
  remindedAt: z.string().optional(),
});

/** Approvals are stored as JSON; parsed on the way out like every other edge. */
export function parseApproval(body: string): ApprovalRecord {
  return approvalSchema.parse(JSON.parse(body));
}
