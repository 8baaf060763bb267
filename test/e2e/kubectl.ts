import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { e2e } from './e2e-env.ts';

/** The harness kubectl as the cluster admin; resolves with stdout. */
export async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(e2e.kubectl, [
    '--kubeconfig',
    e2e.kubeconfig,
    '--context',
    'admin',
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
