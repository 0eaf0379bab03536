import { jsonOutputSchema, zodOutputSchema, type OutputSchema } from '../spec/index.ts';
import { isZod, listNames, type CompileState } from './compile-state.ts';

/**
 * The context section of `compileWorkflow`: each field's schema (validated, its default checked
 * against it), group and access lists; the inputs (each a field); the validation rules (each a
 * registered validator or a function).
 */
export function compileFields(state: CompileState): void {
  const { definition, report } = state;
  for (const [name, field] of Object.entries(definition.context.fields)) {
    const path = `context.fields.${name}`;
    let check: OutputSchema<unknown> | undefined;
    if (field.schema !== undefined) {
      try {
        check = isZod(field.schema)
          ? zodOutputSchema(field.schema)
          : jsonOutputSchema(field.schema, state.ajv, `${path}.schema`);
      } catch (error) {
        report(`${path}.schema`, (error as Error).message);
      }
    }
    const hasDefault = 'default' in field && field.default !== undefined;
    if (hasDefault && check !== undefined) {
      const result = check.check(field.default);
      if (!result.ok)
        report(`${path}.default`, `does not match the field's schema: ${result.problems.join('; ')}`);
    }
    if (field.group !== undefined)
      state.groups.set(field.group, [...(state.groups.get(field.group) ?? []), name]);
    state.fields.set(name, {
      name,
      jsonSchema: check?.jsonSchema,
      check,
      hasDefault,
      default: field.default,
      group: field.group,
      readers: field.access?.read === undefined ? undefined : new Set(field.access.read),
      writers: field.access?.write === undefined ? undefined : new Set(field.access.write),
    });
    for (const kind of ['read', 'write'] as const) {
      (field.access?.[kind] ?? []).forEach((nodeId, index) => {
        if (!(nodeId in definition.nodes))
          report(`${path}.access.${kind}[${index}]`, `unknown node "${nodeId}"`);
      });
    }
  }

  for (const [index, input] of (definition.inputs ?? []).entries()) {
    if (!state.fields.has(input)) report(`inputs[${index}]`, `"${input}" is not a context field`);
  }

  (definition.context.rules ?? []).forEach((rule, index) => {
    const validators = state.functions.validators;
    const check = typeof rule.check === 'function' ? rule.check : validators?.[rule.check];
    if (check === undefined)
      report(
        `context.rules[${index}].check`,
        `no validator "${String(rule.check)}" is registered${listNames(validators)}`,
      );
    else state.rules.push({ id: rule.id, check, message: rule.message });
  });
}
