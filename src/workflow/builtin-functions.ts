import type { GateVerdict, NodeCallContext, WorkflowFunctions } from './workflow-definition.ts';

function texts(value: unknown): string[] {
  if (Array.isArray(value))
    return value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
  return [typeof value === 'string' ? value : JSON.stringify(value ?? null)];
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/**
 * Checks text (or each text of a list) against `call.parameters`: `minLength`, `maxLength`,
 * `mustInclude`, `mustNotInclude` (case-insensitive). Score = share of texts passing.
 */
function checkText(value: unknown, call: NodeCallContext): GateVerdict {
  const { minLength, maxLength } = call.parameters;
  const mustInclude = stringList(call.parameters.mustInclude);
  const mustNotInclude = stringList(call.parameters.mustNotInclude);
  const items = texts(value);
  const reasons: string[] = [];
  let passing = 0;
  items.forEach((text, index) => {
    const where = items.length > 1 ? `item ${index}: ` : '';
    const lower = text.toLowerCase();
    const before = reasons.length;
    if (typeof minLength === 'number' && text.length < minLength)
      reasons.push(`${where}shorter than ${minLength} characters`);
    if (typeof maxLength === 'number' && text.length > maxLength)
      reasons.push(`${where}longer than ${maxLength} characters`);
    for (const word of mustInclude)
      if (!lower.includes(word.toLowerCase())) reasons.push(`${where}does not mention "${word}"`);
    for (const word of mustNotInclude)
      if (lower.includes(word.toLowerCase())) reasons.push(`${where}uses "${word}"`);
    if (reasons.length === before) passing += 1;
  });
  return { pass: reasons.length === 0, score: items.length === 0 ? 1 : passing / items.length, reasons };
}

/**
 * Functions every runner knows, so YAML workflows run without TypeScript: registered functions
 * of the same name win.
 *
 * | name | kind | does |
 * | --- | --- | --- |
 * | `identity` | transform | returns its input |
 * | `first` | transform | the first item of a list |
 * | `shortest` / `longest` | transform | the shortest / longest text of a list |
 * | `join` | transform | a list's texts joined by `parameters.separator` (default a blank line) |
 * | `text-check` | gate | `minLength`, `maxLength`, `mustInclude`, `mustNotInclude` over a text or each text of a list |
 *
 * @example
 * // nodes: { pick: { type: transform, fn: shortest, input: $context.variants } }
 */
export const builtinFunctions: WorkflowFunctions = {
  transforms: {
    identity: (input) => input,
    first: (input) => (Array.isArray(input) ? input[0] : input),
    shortest: (input) =>
      texts(input).reduce<string | undefined>(
        (best, text) => (best === undefined || text.length < best.length ? text : best),
        undefined,
      ),
    longest: (input) =>
      texts(input).reduce<string | undefined>(
        (best, text) => (best === undefined || text.length > best.length ? text : best),
        undefined,
      ),
    join: (input, call) =>
      texts(input).join(typeof call.parameters.separator === 'string' ? call.parameters.separator : '\n\n'),
  },
  gates: {
    'text-check': checkText,
  },
};

/** The runner's functions over the built-ins: a registered name wins. */
export function withBuiltinFunctions(functions: WorkflowFunctions): WorkflowFunctions {
  return {
    transforms: { ...builtinFunctions.transforms, ...functions.transforms },
    gates: { ...builtinFunctions.gates, ...functions.gates },
    conditions: { ...builtinFunctions.conditions, ...functions.conditions },
    validators: { ...builtinFunctions.validators, ...functions.validators },
  };
}
