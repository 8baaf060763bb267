import type {
  ChangeTarget,
  DesiredChange,
  KubeWriter,
  KubeWriterFactory,
  Preview,
  RolloutProgress,
} from '../../src/changes/types.ts';
import { WheelhouseError } from '../../src/errors.ts';
import type { KubeIdentity } from '../../src/kube/types.ts';

/** What the fake cluster holds for one target: its resourceVersion and one field we change. */
interface FakeObject {
  resourceVersion: string;
  image: string;
}

/**
 * A KubeWriter over an in-memory object map: previews diff `image`, apply bumps the
 * resourceVersion, rollouts end as the test says. Every call is recorded with the identity.
 */
export class FakeWriters implements KubeWriterFactory {
  readonly objects = new Map<string, FakeObject>();
  readonly calls: Array<{ op: string; as: string | undefined; target: string; requestId: string }> = [];
  /** Outcome of each followRollout call in turn ('unreachable' throws KUBE_UNREACHABLE); 'done' when the list runs out. */
  rollouts: Array<'done' | 'failed' | 'unreachable'> = [];
  /** Identities refused by RBAC. */
  forbidden = new Set<string>();
  /** Makes the next previews fail as the API server does for a stale resourceVersion. */
  conflictOnPreview = false;

  writerAs(identity: KubeIdentity | undefined, options: { requestId: string }): KubeWriter {
    const record = (op: string, target: ChangeTarget) =>
      this.calls.push({
        op,
        as: identity?.user,
        target: `${target.kind}/${target.name}`,
        requestId: options.requestId,
      });
    const object = (target: ChangeTarget): FakeObject => {
      const found = this.objects.get(`${target.namespace}/${target.name}`);
      if (!found) throw new WheelhouseError('NOT_FOUND', `${target.kind}/${target.name} not found`);
      return found;
    };
    const imageOf = (change: DesiredChange): string => {
      if (change.type !== 'apply') return '';
      return String((change.manifest as { image?: unknown }).image ?? '');
    };
    return {
      authorize: async (change) => {
        record('authorize', change.target);
        if (identity && this.forbidden.has(identity.user)) {
          throw new WheelhouseError('FORBIDDEN', `${identity.user} may not patch deployments`);
        }
      },
      preview: async (change): Promise<Preview> => {
        record('preview', change.target);
        const live = object(change.target);
        if (
          this.conflictOnPreview ||
          (change.resourceVersion && change.resourceVersion !== live.resourceVersion)
        ) {
          throw new WheelhouseError('CONFLICT', 'changed since the proposal');
        }
        return {
          target: change.target,
          diff: [
            { path: 'spec.template.spec.containers[app].image', before: live.image, after: imageOf(change) },
          ],
          resourceVersion: live.resourceVersion,
          after: undefined,
        };
      },
      apply: async (change) => {
        record('apply', change.target);
        const live = object(change.target);
        live.image = imageOf(change);
        live.resourceVersion = String(Number(live.resourceVersion) + 1);
        return { resourceVersion: live.resourceVersion };
      },
      followRollout: async (target, opts): Promise<RolloutProgress> => {
        record('follow', target);
        const phase = this.rollouts.shift() ?? 'done';
        if (phase === 'unreachable') {
          throw new WheelhouseError('KUBE_UNREACHABLE', 'connect ECONNREFUSED 127.0.0.1:6443');
        }
        const progress: RolloutProgress = {
          target,
          desired: 3,
          updated: 3,
          ready: phase === 'done' ? 3 : 0,
          available: phase === 'done' ? 3 : 0,
          phase,
          message: phase === 'done' ? 'all 3 replicas available' : 'progress deadline exceeded: 0 of 3 ready',
        };
        opts.onProgress?.(progress);
        return progress;
      },
    };
  }
}
