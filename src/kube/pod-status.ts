import type { V1Container, V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';

/** One pod as `kubectl get pods -o wide` shows it. */
export interface PodSummary {
  name: string;
  namespace: string;
  /** READY column, e.g. "1/2". */
  ready: string;
  readyCount: number;
  total: number;
  /** STATUS column, computed exactly as kubectl does (e.g. "CrashLoopBackOff", "Init:0/2", "Completed"). */
  status: string;
  restarts: number;
  /** RESTARTS column, e.g. "5 (3m12s ago)". */
  restartsText: string;
  /** AGE column, e.g. "3h12m". */
  age: string;
  /** NODE column, "<none>" when unscheduled. */
  node: string;
}

/** A pod is not "unhealthy" just for being young: a rollout creates pods that need a few seconds. */
const STARTUP_GRACE_MS = 60_000;
/** A running pod whose container died this recently is still crash-looping, even if it looks Running. */
const RECENT_RESTART_MS = 10 * 60_000;
/** A pod still terminating this long after its deletion deadline is stuck (finalizers, lost node). */
const STUCK_TERMINATING_MS = 2 * 60_000;

const NODE_UNREACHABLE_POD_REASON = 'NodeLost';
const TRANSIENT_STATUSES = new Set([
  'Pending',
  'ContainerCreating',
  'PodInitializing',
  'SchedulingGated',
  'NotReady',
]);
const IMAGE_PULL_REASONS = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'ErrImageNeverPull',
]);

/**
 * Kubernetes' `HumanDuration` (apimachinery/pkg/util/duration), which kubectl uses for AGE and
 * "(5m ago)": "45s", "5m12s", "3h12m", "2d5h", "40d", "2y30d".
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / 3_600_000);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const years = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** kubectl's translateTimestampSince: the age of a timestamp, "<unknown>" when there is none. */
export function formatAge(since: Date | undefined, now: Date): string {
  if (!since || Number.isNaN(since.getTime()) || since.getTime() === 0) return '<unknown>';
  return humanDuration(now.getTime() - since.getTime());
}

/** READY, STATUS, RESTARTS, AGE and NODE of a pod, ported from kubectl's printPod (Kubernetes 1.36). */
export function summarizePod(pod: V1Pod, now: Date): PodSummary {
  const spec = pod.spec;
  const status = pod.status ?? {};
  const initSpecs = new Map<string, V1Container>((spec?.initContainers ?? []).map((c) => [c.name, c]));
  let totalContainers = spec?.containers.length ?? 0;
  let readyContainers = 0;
  let restarts = 0;
  let restartableInitRestarts = 0;
  let lastRestart = 0;
  let lastRestartableInitRestart = 0;

  let reason = status.reason || status.phase || '';
  for (const condition of status.conditions ?? []) {
    if (condition.type === 'PodScheduled' && condition.reason === 'SchedulingGated')
      reason = 'SchedulingGated';
  }
  for (const init of spec?.initContainers ?? []) {
    if (isRestartable(init)) totalContainers++;
  }

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const container = initStatuses[i];
    if (!container) continue;
    restarts += container.restartCount;
    const finished = lastFinishedAt(container);
    if (finished > lastRestart) lastRestart = finished;
    const restartable = isRestartable(initSpecs.get(container.name));
    if (restartable) {
      restartableInitRestarts += container.restartCount;
      if (finished > lastRestartableInitRestart) lastRestartableInitRestart = finished;
    }
    const terminated = container.state?.terminated;
    const waiting = container.state?.waiting;
    if (terminated && terminated.exitCode === 0) continue;
    if (restartable && container.started === true) {
      if (container.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      if (!terminated.reason) {
        reason = terminated.signal
          ? `Init:Signal:${terminated.signal}`
          : `Init:ExitCode:${terminated.exitCode}`;
      } else {
        reason = `Init:${terminated.reason}`;
      }
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${spec?.initContainers?.length ?? 0}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || hasCondition(status.conditions, 'Initialized')) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    let errorReason = '';
    const containers = status.containerStatuses ?? [];
    for (let i = containers.length - 1; i >= 0; i--) {
      const container = containers[i];
      if (!container) continue;
      restarts += container.restartCount;
      const finished = lastFinishedAt(container);
      if (finished > lastRestart) lastRestart = finished;
      const waiting = container.state?.waiting;
      const terminated = container.state?.terminated;
      if (waiting?.reason) {
        reason = waiting.reason;
      } else if (terminated) {
        if (terminated.reason) reason = terminated.reason;
        else if (terminated.signal) reason = `Signal:${terminated.signal}`;
        else reason = `ExitCode:${terminated.exitCode}`;
        if (terminated.exitCode !== 0) errorReason = reason;
      } else if (container.ready && container.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // Back to "Running" when a container still runs next to one that completed.
    if (reason === 'Completed') {
      if (hasRunning && hasCondition(status.conditions, 'Ready')) reason = 'Running';
      else if (errorReason !== '') reason = errorReason;
      else if (hasRunning) reason = 'NotReady';
    }
  }

  if (pod.metadata?.deletionTimestamp && status.reason === NODE_UNREACHABLE_POD_REASON) {
    reason = 'Unknown';
  } else if (pod.metadata?.deletionTimestamp && status.phase !== 'Succeeded' && status.phase !== 'Failed') {
    reason = 'Terminating';
  }

  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    ready: `${readyContainers}/${totalContainers}`,
    readyCount: readyContainers,
    total: totalContainers,
    status: reason,
    restarts,
    restartsText:
      restarts !== 0 && lastRestart !== 0
        ? `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)`
        : String(restarts),
    age: formatAge(pod.metadata?.creationTimestamp, now),
    node: spec?.nodeName || '<none>',
  };
}

/**
 * Whether a pod needs attention: it failed, crash-loops (or restarted in the last 10 minutes),
 * cannot pull its image or be scheduled, is not ready after a minute, or is stuck terminating.
 * Completed pods and pods that are still starting up (first minute) are healthy.
 */
export function isPodUnhealthy(pod: V1Pod, now: Date): boolean {
  const summary = summarizePod(pod, now);
  if (pod.status?.phase === 'Succeeded' || summary.status === 'Completed') return false;
  if (summary.status === 'Terminating') return stuckTerminatingMs(pod, now) > 0;
  if (lastRestartWithin(pod, now, RECENT_RESTART_MS)) return true;
  if (summary.status === 'Running' && summary.readyCount === summary.total) return false;
  if (unschedulable(pod)) return true;
  const young = ageMs(pod, now) < STARTUP_GRACE_MS;
  const starting =
    TRANSIENT_STATUSES.has(summary.status) ||
    /^Init:\d+\/\d+$/.test(summary.status) ||
    summary.status === 'Running';
  return !(young && starting);
}

/**
 * Why a pod is unhealthy, in words: one line per cause, e.g. `container app: CrashLoopBackOff,
 * restarted 12 times; last exit code 137 (OOMKilled) 2m ago; memory limit 256Mi`. Empty when
 * nothing is wrong.
 */
export function explainPod(pod: V1Pod, now: Date): string[] {
  const reasons: string[] = [];
  const status = pod.status ?? {};
  const summary = summarizePod(pod, now);

  const scheduled = condition(status.conditions, 'PodScheduled');
  if (scheduled?.status === 'False') {
    const why = scheduled.reason ? ` (${scheduled.reason})` : '';
    reasons.push(`not scheduled${why}${scheduled.message ? `: ${oneLine(scheduled.message)}` : ''}`);
  }
  if (pod.metadata?.deletionTimestamp && status.reason === NODE_UNREACHABLE_POD_REASON) {
    reasons.push(`node ${pod.spec?.nodeName ?? '?'} is unreachable (NodeLost); the pod is being deleted`);
  } else if (status.reason && status.phase === 'Failed') {
    reasons.push(`${status.reason}${status.message ? `: ${oneLine(status.message)}` : ''}`);
  } else if (status.reason === NODE_UNREACHABLE_POD_REASON) {
    reasons.push(`node ${pod.spec?.nodeName ?? '?'} is unreachable (NodeLost)`);
  }
  const stuck = summary.status === 'Terminating' ? stuckTerminatingMs(pod, now) : 0;
  if (stuck > 0) {
    const finalizers = pod.metadata?.finalizers?.length
      ? ` (finalizers: ${pod.metadata.finalizers.join(', ')})`
      : '';
    reasons.push(`stuck terminating for ${humanDuration(stuck)} past its grace period${finalizers}`);
  }

  const specs = new Map<string, V1Container>(
    [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => [c.name, c]),
  );
  const statuses = [
    ...(status.initContainerStatuses ?? []).map((s) => ({ s, init: true })),
    ...(status.containerStatuses ?? []).map((s) => ({ s, init: false })),
  ];
  for (const { s, init } of statuses) {
    const why = explainContainer(s, specs.get(s.name), init, pod, now);
    if (why) reasons.push(why);
  }
  return reasons;
}

/** A container's state in a few words, e.g. "running", "waiting: CrashLoopBackOff", "terminated: Completed (0)". */
export function describeContainerState(s: V1ContainerStatus): string {
  const { running, waiting, terminated } = s.state ?? {};
  if (running) return 'running';
  if (waiting) return `waiting: ${waiting.reason ?? 'unknown'}`;
  if (terminated) return `terminated: ${terminated.reason ?? 'exit'} (exit code ${terminated.exitCode})`;
  return 'unknown';
}

/** The last time a container died, e.g. "OOMKilled, exit code 137, 5m ago"; undefined if it never did. */
export function describeLastTermination(s: V1ContainerStatus, now: Date): string | undefined {
  const last = s.lastState?.terminated;
  if (!last) return undefined;
  const when = last.finishedAt ? `, ${formatAge(last.finishedAt, now)} ago` : '';
  return `${last.reason ?? 'terminated'}, exit code ${last.exitCode}${when}`;
}

function explainContainer(
  s: V1ContainerStatus,
  spec: V1Container | undefined,
  init: boolean,
  pod: V1Pod,
  now: Date,
): string | undefined {
  const label = `${init ? 'init container' : 'container'} ${s.name}`;
  const { running, waiting, terminated } = s.state ?? {};
  const last = s.lastState?.terminated;
  const lastText = last ? lastRun(last.reason, last.exitCode, last.finishedAt, now) : '';
  const memory = spec?.resources?.limits?.['memory'];
  const oom = terminated?.reason === 'OOMKilled' || last?.reason === 'OOMKilled';
  const memoryText = oom ? (memory ? `; memory limit ${memory}` : '; no memory limit set') : '';
  const message = (m: string | undefined): string => (m ? `: ${oneLine(m)}` : '');

  if (waiting?.reason === 'CrashLoopBackOff') {
    const times = `restarted ${s.restartCount} time${s.restartCount === 1 ? '' : 's'}`;
    const lastMessage = last?.message ? ` (${oneLine(last.message)})` : '';
    return `${label}: CrashLoopBackOff, ${times}${lastText ? `; ${lastText}` : ''}${lastMessage}${memoryText}`;
  }
  if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason)) {
    const image = spec?.image ?? s.image;
    return `${label}: ${waiting.reason}, cannot pull image "${image}"${message(waiting.message)}`;
  }
  if (waiting?.reason && waiting.reason !== 'PodInitializing' && waiting.reason !== 'ContainerCreating') {
    return `${label}: ${waiting.reason}${message(waiting.message)}`;
  }
  if (waiting && ageMs(pod, now) >= STARTUP_GRACE_MS && pod.status?.phase !== 'Succeeded') {
    return `${label}: still waiting (${waiting.reason ?? 'not started'}) after ${formatAge(pod.metadata?.creationTimestamp, now)}`;
  }
  if (terminated && terminated.exitCode !== 0) {
    return `${label}: ${lastRun(terminated.reason, terminated.exitCode, terminated.finishedAt, now)}${message(terminated.message)}${memoryText}`;
  }
  if (running && !s.ready && !init && ageMs(pod, now) >= STARTUP_GRACE_MS) {
    return `${label}: running but not ready (its readiness probe is failing)${lastText ? `; ${lastText}` : ''}${memoryText}`;
  }
  if (running && last?.finishedAt && now.getTime() - last.finishedAt.getTime() < RECENT_RESTART_MS) {
    return `${label}: restarted ${s.restartCount} time${s.restartCount === 1 ? '' : 's'}; ${lastText}${memoryText}`;
  }
  return undefined;
}

function lastRun(
  reason: string | undefined,
  exitCode: number,
  finishedAt: Date | undefined,
  now: Date,
): string {
  const when = finishedAt ? ` ${formatAge(finishedAt, now)} ago` : '';
  return reason === 'OOMKilled'
    ? `OOMKilled (exit code ${exitCode})${when}`
    : `last exit code ${exitCode}${reason ? ` (${reason})` : ''}${when}`;
}

function isRestartable(container: V1Container | undefined): boolean {
  return container?.restartPolicy === 'Always';
}

function lastFinishedAt(container: V1ContainerStatus): number {
  return container.lastState?.terminated?.finishedAt?.getTime() ?? 0;
}

function condition(conditions: V1PodCondition[] | undefined, type: string): V1PodCondition | undefined {
  return conditions?.find((c) => c.type === type);
}

function hasCondition(conditions: V1PodCondition[] | undefined, type: string): boolean {
  return condition(conditions, type)?.status === 'True';
}

function unschedulable(pod: V1Pod): boolean {
  const scheduled = condition(pod.status?.conditions, 'PodScheduled');
  return scheduled?.status === 'False' && scheduled.reason === 'Unschedulable';
}

function ageMs(pod: V1Pod, now: Date): number {
  const created = pod.metadata?.creationTimestamp?.getTime();
  return created === undefined ? Number.POSITIVE_INFINITY : now.getTime() - created;
}

function lastRestartWithin(pod: V1Pod, now: Date, windowMs: number): boolean {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].some(
    (s) => {
      const finished = s.lastState?.terminated?.finishedAt?.getTime();
      return finished !== undefined && now.getTime() - finished < windowMs;
    },
  );
}

/** How long past its deletion deadline a pod still exists; 0 when it is not late (yet). */
function stuckTerminatingMs(pod: V1Pod, now: Date): number {
  const deadline = pod.metadata?.deletionTimestamp?.getTime();
  if (deadline === undefined) return 0;
  const late = now.getTime() - deadline;
  return late > STUCK_TERMINATING_MS ? late : 0;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}
