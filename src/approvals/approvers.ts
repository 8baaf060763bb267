import type { Actor } from '../skills/context.ts';

/** Who may approve: explicit ids or Kubernetes users, and/or a group (Kubernetes group or Slack user group). */
export interface RequiredApprovers {
  group?: string | undefined;
  users?: string[] | undefined;
}

/** Slack user group ids look like S0614TZR7. */
const SLACK_USERGROUP = /^S[A-Z0-9]{6,}$/;

/**
 * Whether the actor may approve: listed by id or Kubernetes user, in the Kubernetes group, or a
 * member of the Slack user group (an on-call group synced by a paging tool counts). Asked at click
 * time, so someone who left the group since the request was posted can no longer approve.
 */
export async function isApprover(
  actor: Actor,
  required: RequiredApprovers,
  groupMembers: ((usergroup: string) => Promise<string[]>) | undefined,
): Promise<boolean> {
  if (required.users?.some((u) => u === actor.id || u === actor.kube?.user)) return true;
  if (required.group === undefined) return false;
  if ((actor.kube?.groups ?? []).includes(required.group)) return true;
  if (actor.surface !== 'slack' || !SLACK_USERGROUP.test(required.group) || !groupMembers) return false;
  return (await groupMembers(required.group)).includes(actor.id);
}

/** The approvers as a hint names them: the users, else the group. */
export function approverText(required: RequiredApprovers): string {
  return required.users?.length ? required.users.join(', ') : `group ${required.group ?? '(none)'}`;
}
