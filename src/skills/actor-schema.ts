import { z } from 'zod';

/**
 * An Actor (src/skills/context.ts) as stored with long-lived work (verifications, canary runs),
 * parsed on the way out. JSON drops an undefined `kube`, so here it is optional.
 */
export const actorSchema = z.object({
  surface: z.enum(['slack', 'console', 'http']),
  id: z.string(),
  name: z.string().optional(),
  channel: z.string().optional(),
  thread: z.string().optional(),
  kube: z.object({ user: z.string(), groups: z.array(z.string()) }).optional(),
});
