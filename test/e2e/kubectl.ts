import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { e2e } from './e2e-env.ts';

/** The harness kubectl as the cluster admin; resolves with stdout. */
export async function kubectl(...args: string[]): Promise<string> {
  return kubectlWith(e2e.kubeconfig, 'admin', ...args);
}

/**
 * The harness kubectl with a given kubeconfig (e.g. `e2e.secondKubeconfig`) and context (`admin`,
 * `alice`, `bob`, `wheelhouse`); resolves with stdout.
 */
export async function kubectlWith(kubeconfig: string, context: string, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(e2e.kubectl, [
    '--kubeconfig',
    kubeconfig,
    '--context',
    context,
    ...args,
  ]);
  return stdout;
}

/** `kubectl apply -f -` of a YAML document (stream) as the cluster admin. */
export async function kubectlApply(yaml: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = execFile(
      e2e.kubectl,
      ['--kubeconfig', e2e.kubeconfig, '--context', 'admin', 'apply', '-f', '-'],
      (error) => (error ? reject(error) : resolve()),
    );
    child.stdin?.end(yaml);
  });
}

/**
 * A namespace where the bot's own identity (`wheelhouse`) may hold one Lease: create any, get and
 * update only `lease` — the rights the chart's leader-election Role grants.
 */
export function leaseNamespaceManifest(namespace: string, lease: string): string {
  return `
apiVersion: v1
kind: Namespace
metadata: { name: ${namespace} }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: wheelhouse-leader-election, namespace: ${namespace} }
rules:
  - { apiGroups: [coordination.k8s.io], resources: [leases], verbs: [create] }
  - { apiGroups: [coordination.k8s.io], resources: [leases], resourceNames: [${lease}], verbs: [get, update] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: wheelhouse-leader-election, namespace: ${namespace} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: wheelhouse-leader-election }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: wheelhouse }]
`;
}
