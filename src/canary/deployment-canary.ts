import type { V1Deployment } from '@kubernetes/client-node';
import {
  applyConfiguration,
  changeTarget,
  mergePatch,
  podTemplatePatch,
  templateImages,
  withImage,
} from '../changes/targets.ts';
import type { ChangeTarget, DesiredChange } from '../changes/types.ts';
import type { CanaryState } from './canary-run.ts';
import type { StepPlan } from './steps.ts';

/** The label that tells canary pods from stable ones; stable's pods do not carry it. */
export const TRACK_LABEL = 'wheelhouse.io/track';
/** On the canary Deployment: which Deployment it is the canary of. */
export const CANARY_OF_LABEL = 'wheelhouse.io/canary-of';

export function deploymentTarget(namespace: string, name: string): ChangeTarget {
  return changeTarget({ kind: 'Deployment', namespace, name });
}

/** "checkout-canary": the canary Deployment's name. */
export function canaryName(stable: string): string {
  return `${stable}-canary`.slice(0, 253);
}

/**
 * The canary Deployment as a server-side apply configuration: stable's pod template with the new
 * image, stable's selector labels plus the track label (so the stable Service, which selects on
 * stable's labels, spreads traffic over both by replica count), and `replicas` pods.
 */
export function canaryDeployment(
  stable: V1Deployment,
  options: { name: string; container: string; image: string; replicas: number },
): DesiredChange {
  const namespace = stable.metadata?.namespace ?? '';
  const target = deploymentTarget(namespace, options.name);
  // The template as plain JSON (the typed client's classes serialise to the API's field names).
  const template = JSON.parse(JSON.stringify(stable.spec?.template ?? {})) as {
    metadata?: {
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
      creationTimestamp?: unknown;
    };
    spec?: { containers?: Array<{ name: string; image?: string }> };
  };
  const labels = { ...(template.metadata?.labels ?? {}), [TRACK_LABEL]: 'canary' };
  const containers = (template.spec?.containers ?? []).map((c) =>
    c.name === options.container ? { ...c, image: options.image } : c,
  );
  return {
    type: 'apply',
    target,
    resourceVersion: undefined,
    manifest: applyConfiguration(target, {
      metadata: {
        name: options.name,
        namespace,
        labels: { [CANARY_OF_LABEL]: stable.metadata?.name ?? '', [TRACK_LABEL]: 'canary' },
      },
      spec: {
        replicas: options.replicas,
        selector: { matchLabels: { ...(stable.spec?.selector?.matchLabels ?? {}), [TRACK_LABEL]: 'canary' } },
        template: {
          metadata: {
            labels,
            ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
          },
          spec: { ...template.spec, containers },
        },
      },
    }),
  };
}

function scale(namespace: string, name: string, replicas: number): DesiredChange {
  return mergePatch(deploymentTarget(namespace, name), undefined, { spec: { replicas } }, 'scale');
}

/** Scales both tracks to a step; the growing side first, so capacity never dips below the total. */
export function stepChanges(state: CanaryState, plan: StepPlan, canaryNow: number): DesiredChange[] {
  const canary = scale(state.namespace, state.canary, plan.canary);
  const stable = scale(state.namespace, state.stable, plan.stable);
  return plan.canary >= canaryNow ? [canary, stable] : [stable, canary];
}

/** Promotion: stable takes the new image at full capacity; the canary goes once stable is rolled out. */
export function promoteChanges(
  state: CanaryState,
  stable: V1Deployment,
): { stable: DesiredChange[]; cleanup: DesiredChange[] } {
  const images = withImage(templateImages(stable.spec?.template), state.container, state.image);
  const target = deploymentTarget(state.namespace, state.stable);
  return {
    stable: [podTemplatePatch(target, undefined, images), scale(state.namespace, state.stable, state.total)],
    cleanup: [removeCanary(state)],
  };
}

/** Rollback: stable back to full capacity on its own version, and the canary removed. */
export function rollbackChanges(state: CanaryState): DesiredChange[] {
  return [scale(state.namespace, state.stable, state.total), removeCanary(state)];
}

export function removeCanary(state: CanaryState): DesiredChange {
  return {
    type: 'delete',
    target: deploymentTarget(state.namespace, state.canary),
    resourceVersion: undefined,
    uid: undefined,
  };
}
