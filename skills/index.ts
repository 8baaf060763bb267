import type { AnySkill } from '../src/skills/define-skill.ts';
import { eventsList } from './events-list/skill.ts';
import { logsSearch } from './logs-search/skill.ts';
import { metricsQuery } from './metrics-query/skill.ts';
import { podLogs } from './pod-logs/skill.ts';
import { podsList } from './pods-list/skill.ts';
import { workloadDescribe } from './workload-describe/skill.ts';

/** Every skill Wheelhouse offers. Adding one is a folder under skills/ and a line here. */
export const skills: readonly AnySkill[] = [
  podsList,
  workloadDescribe,
  eventsList,
  podLogs,
  logsSearch,
  metricsQuery,
];
