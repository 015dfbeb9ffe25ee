import { z } from 'zod';
import { InputError } from '../errors.js';
import type { CniConfList } from './types.js';

/**
 * CNI network configuration lists (spec 1.0 "network configuration list"), validated before any
 * plugin runs. A plugin `type` is a file name inside CNI_PATH, never a path: no slashes, no "..".
 */

/** Config versions cnlab hands to plugins (the 1.1.1 reference plugins speak 0.4.0 and 1.0.0). */
export const CNI_VERSIONS = ['0.4.0', '1.0.0', '1.1.0'] as const;

/** Spec: a network name starts with an alphanumeric, then alphanumerics, '_', '.', '-'. */
export const CNI_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** A plugin binary name: one path component inside CNI_PATH. */
export const PLUGIN_TYPE_RE = /^[A-Za-z0-9._-]+$/;

/** True when `name` is one plain path component (no '/', not '.' or '..'). */
export function isPlainName(name: string): boolean {
  return PLUGIN_TYPE_RE.test(name) && name !== '.' && name !== '..';
}

const pluginType = z
  .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
  .min(1, 'must not be empty')
  .refine(isPlainName, (t) => ({
    message: `must be a plugin file name (letters, digits, '.', '_', '-'), got ${JSON.stringify(t)}`,
  }));

const ipam = z.object({ type: pluginType }).passthrough();

const plugin = z
  .object(
    {
      type: pluginType,
      ipam: ipam.optional(),
      capabilities: z.record(z.boolean({ invalid_type_error: 'must be true or false' })).optional(),
    },
    { required_error: 'is required', invalid_type_error: 'must be an object' },
  )
  .passthrough();

const conflistSchema = z.object(
  {
    cniVersion: z.enum(CNI_VERSIONS, {
      errorMap: (issue, ctx) => ({
        message:
          issue.code === 'invalid_type' && ctx.data === undefined
            ? 'is required'
            : `must be one of ${CNI_VERSIONS.join(', ')}, got ${JSON.stringify(ctx.data)}`,
      }),
    }),
    name: z
      .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
      .min(1, 'must not be empty')
      .regex(CNI_NAME_RE, "must start with a letter or digit and contain only letters, digits, '.', '_', '-'"),
    plugins: z
      .array(plugin, { required_error: 'is required', invalid_type_error: 'must be an array' })
      .min(1, 'must list at least one plugin'),
  },
  { invalid_type_error: 'must be a JSON object' },
);

/** `plugins[1].ipam.type` from a zod issue path. */
export function issuePath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${part}` : part;
  return out;
}

function firstIssue(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid';
  const where = issuePath(issue.path);
  return where ? `${where} ${issue.message}` : `config ${issue.message}`;
}

/**
 * Parse and validate a CNI configuration list (the JSON a `.conflist` file holds).
 * Throws InputError with one line naming `source` and the first problem.
 */
export function parseConflist(text: string, source: string): CniConfList {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new InputError(`bad CNI config ${source}: not valid JSON (${why.split('\n')[0]})`);
  }
  const parsed = conflistSchema.safeParse(data);
  if (!parsed.success) throw new InputError(`bad CNI config ${source}: ${firstIssue(parsed.error)}`);
  return parsed.data as CniConfList;
}
