// The API roles a key can hold, from least to most. Shared by the API (keys, authorization) and the update table,
// which says which roles may send each operator update. Sandbox-safe: imports only zod.
import { z } from 'zod';

export const API_ROLES = ['viewer', 'detector', 'operator', 'commander'] as const;
export const ApiRole = z.enum(API_ROLES, { error: `expected a role: ${API_ROLES.join(', ')}` });
export type ApiRole = z.infer<typeof ApiRole>;
