import type { Config } from '../config/schema.ts';
import type { KubeIdentity } from '../kube/types.ts';

/** A Slack user as far as identity mapping needs one. */
export interface ChatUser {
  id: string;
  email?: string | undefined;
}

/**
 * Maps chat users to the Kubernetes identity requests are impersonated as.
 * `null` means the user is refused; there is no "act as the bot" answer for chat users.
 */
export class IdentityMap {
  readonly #rules: Config['identity'];

  constructor(rules: Config['identity']) {
    this.#rules = rules;
  }

  /** True when some rule maps by email, so callers know to look the email up. */
  usesEmail(): boolean {
    return this.#rules.users.some((r) => r.email !== undefined);
  }

  /** True when an identity rule names this chat user (by id or email). */
  isMapped(user: ChatUser): boolean {
    const email = user.email?.toLowerCase();
    return this.#rules.users.some(
      (r) => r.slack === user.id || (email !== undefined && r.email?.toLowerCase() === email),
    );
  }

  /** A configured user by Slack id, email or Kubernetes user name (for the console's `as`). */
  find(name: string): { id: string; kube: KubeIdentity } | undefined {
    const rule = this.#rules.users.find((r) => r.slack === name || r.email === name || r.kubeUser === name);
    if (!rule) return undefined;
    return {
      id: rule.slack ?? rule.email ?? rule.kubeUser,
      kube: { user: rule.kubeUser, groups: rule.groups },
    };
  }

  resolve(user: ChatUser): KubeIdentity | null {
    const email = user.email?.toLowerCase();
    const rule = this.#rules.users.find(
      (r) => r.slack === user.id || (email !== undefined && r.email?.toLowerCase() === email),
    );
    if (rule) return { user: rule.kubeUser, groups: rule.groups };
    const fallback = this.#rules.unmapped;
    if (fallback === 'deny') return null;
    return { user: fallback.kubeUser.replaceAll('{id}', user.id), groups: fallback.groups };
  }
}
