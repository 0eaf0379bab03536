import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { z } from 'zod';
import { ConfigError } from '../core/index.ts';
import { formatPath } from './validation.ts';

/** The outcome of validating a model's answer against a step's output schema. */
export type OutputCheck<Output> = { ok: true; value: Output } | { ok: false; problems: string[] };

/** An output schema in either form: zod for TypeScript authors, JSON Schema for YAML authors. */
export interface OutputSchema<Output> {
  /** The JSON Schema sent to the model as `response_format.json_schema.schema`. */
  readonly jsonSchema: Record<string, unknown>;
  check(value: unknown): OutputCheck<Output>;
}

/** Wraps a zod schema as an output schema. */
export function zodOutputSchema<Output>(schema: z.ZodType<Output>): OutputSchema<Output> {
  const jsonSchema = z.toJSONSchema(schema, { target: 'draft-7', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete jsonSchema.$schema;
  return {
    jsonSchema,
    check(value) {
      const result = schema.safeParse(value);
      if (result.success) return { ok: true, value: result.data };
      return {
        ok: false,
        problems: result.error.issues.map(
          (issue) => `${formatPath(issue.path) || '(root)'}: ${issue.message}`,
        ),
      };
    },
  };
}

/** Wraps a JSON Schema (as written in YAML) as an output schema, validated with Ajv. */
export function jsonOutputSchema(
  schema: Record<string, unknown>,
  ajv: Ajv,
  where: string,
): OutputSchema<unknown> {
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (error) {
    throw new ConfigError({
      message: `${where}: invalid JSON Schema: ${(error as Error).message}`,
      param: where,
      cause: error,
    });
  }
  return {
    jsonSchema: schema,
    check(value) {
      if (validate(value)) return { ok: true, value };
      return { ok: false, problems: (validate.errors ?? []).map(describeAjvError) };
    },
  };
}

function describeAjvError(error: ErrorObject): string {
  const path = error.instancePath === '' ? '(root)' : error.instancePath.slice(1).replace(/\//g, '.');
  return `${path}: ${error.message ?? 'invalid'}`;
}

/** The one Ajv set-up for JSON Schemas users write (step types, workflow schemas): every error, no strict mode. */
export function createAjv(): Ajv {
  return new Ajv({ allErrors: true, strict: false });
}
