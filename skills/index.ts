import type { AnySkill } from '../src/skills/define-skill.ts';
import { argoRolloutAbort } from './argo-rollout-abort/skill.ts';
import { argoRolloutPromote } from './argo-rollout-promote/skill.ts';
import { argoRolloutRetry } from './argo-rollout-retry/skill.ts';
import { argoRolloutStatus } from './argo-rollout-status/skill.ts';
import { canaryStart } from './canary-start/skill.ts';
import { eventsList } from './events-list/skill.ts';
import { logsSearch } from './logs-search/skill.ts';
import { metricsQuery } from './metrics-query/skill.ts';
import { podDelete } from './pod-delete/skill.ts';
import { podLogs } from './pod-logs/skill.ts';
import { podWhyPending } from './pod-why-pending/skill.ts';
import { podsList } from './pods-list/skill.ts';
import { rolloutPause } from './rollout-pause/skill.ts';
import { rolloutResume } from './rollout-resume/skill.ts';
import { workloadCompare } from './workload-compare/skill.ts';
import { workloadDeploy } from './workload-deploy/skill.ts';
import { workloadDescribe } from './workload-describe/skill.ts';
import { workloadExplain } from './workload-explain/skill.ts';
import { workloadRestart } from './workload-restart/skill.ts';
import { workloadRollback } from './workload-rollback/skill.ts';
import { workloadScale } from './workload-scale/skill.ts';
import { workloadScaleAdvice } from './workload-scale-advice/skill.ts';

/** Every skill Wheelhouse offers. Adding one is a folder under skills/ and a line here. */
export const skills: readonly AnySkill[] = [
  podsList,
  workloadDescribe,
  workloadExplain,
  eventsList,
  podLogs,
  podWhyPending,
  logsSearch,
  metricsQuery,
  workloadCompare,
  workloadDeploy,
  canaryStart,
  workloadScale,
  workloadScaleAdvice,
  workloadRestart,
  workloadRollback,
  rolloutPause,
  rolloutResume,
  argoRolloutStatus,
  argoRolloutPromote,
  argoRolloutAbort,
  argoRolloutRetry,
  podDelete,
];
