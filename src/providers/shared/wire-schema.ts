import { z } from 'zod';
import { formatPath } from '../../spec/index.ts';
import { createMalformedResponseError, isRecord, type JsonBodySource } from './json-body.ts';

/**
 * Parses a provider payload with a tolerant schema (unknown fields pass, optional fields may be
 * missing), or throws a `malformed_response` ProviderError naming the provider and the first
 * bad field: `anthropic returned a malformed response: content[0].text: Invalid input: expected string, received number`.
 *
 * @example
 * const wire = parseWirePayload(anthropicMessageSchema, body, { provider: 'anthropic', deployment: 'claude-eu' });
 */
export function parseWirePayload<T>(schema: z.ZodType<T>, value: unknown, source: JsonBodySource): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue === undefined ? '' : formatPath(issue.path);
  const where = path === '' ? (source.what ?? 'response body') : path;
  throw createMalformedResponseError(source, `${where}: ${issue?.message ?? 'invalid value'}`, result.error);
}

/** A variant of a `type`-tagged wire union that no schema was given for (a newer block, event or delta type). */
export interface OtherWireVariant {
  readonly type: 'other';
  /** The `type` the upstream sent. */
  readonly wireType: string;
}

/**
 * A tolerant schema for a union tagged by `type`, such as Anthropic's content blocks or stream
 * events: a known type must match its schema (a wrong field is an error naming it), an unknown
 * type passes as {@link OtherWireVariant} so that an upstream's new variants never break a
 * response. (A plain `z.union` with a catch-all would silently accept a broken known variant.)
 *
 * @example
 * const blockSchema = createWireVariantSchema({ text: z.looseObject({ type: z.literal('text'), text: z.string() }) });
 * blockSchema.parse({ type: 'thinking', thinking: '…' }); // { type: 'other', wireType: 'thinking' }
 */
export function createWireVariantSchema<const Schemas extends Record<string, z.ZodType>>(
  schemas: Schemas,
): z.ZodType<z.output<Schemas[keyof Schemas]> | OtherWireVariant> {
  const known = new Map<string, z.ZodType>(Object.entries(schemas));
  // One pass over the value: the tag is read by hand (no copy of the object), then the known
  // variant's schema checks the rest.
  return z.unknown().transform((value, context) => {
    const type = isRecord(value) ? value['type'] : undefined;
    if (typeof type !== 'string') {
      context.addIssue({
        code: 'custom',
        message: isRecord(value) ? 'expected a string type tag' : 'expected an object',
        path: isRecord(value) ? ['type'] : [],
        input: value,
      });
      return z.NEVER;
    }
    const schema = known.get(type);
    if (schema === undefined) return { type: 'other', wireType: type } as OtherWireVariant;
    const result = schema.safeParse(value);
    if (result.success) return result.data as z.output<Schemas[keyof Schemas]>;
    for (const issue of result.error.issues)
      context.addIssue({ code: 'custom', message: issue.message, path: [...issue.path], input: value });
    return z.NEVER;
  });
}

/** A token count: a finite number >= 0 (null and absence are tolerated by the schemas using it). */
export const tokenCountSchema = z.number().nonnegative();
