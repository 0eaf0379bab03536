import { appendFileSync } from 'node:fs';
import type { NodeCallContext, WorkflowDefinition, WorkflowFunctions } from '../workflow-definition.ts';

/** The workflow the crash test runs in a child process, kills, and resumes in the parent. */
export const crashFlow: WorkflowDefinition = {
  id: 'crash-flow',
  version: 1,
  inputs: ['topic'],
  outputs: { report: '$context.report' },
  context: {
    fields: {
      topic: { schema: { type: 'string' } },
      facts: { schema: { type: 'string' } },
      report: { schema: { type: 'string' } },
    },
  },
  nodes: {
    gather: { type: 'transform', fn: 'gather', input: '$context.topic', writes: { facts: '$output.topic' } },
    items: {
      type: 'map',
      over: '$nodes.gather.output.list',
      concurrency: 1,
      node: { type: 'transform', fn: 'item', input: '$item' },
    },
    write: {
      type: 'transform',
      fn: 'write',
      input: { facts: '$context.facts', items: '$nodes.items.output' },
      writes: { report: '$output' },
    },
  },
};

/**
 * Functions that log each call to `logPath`. In the child, item "c" never finishes (so the
 * process is killed while it runs); in the parent every function finishes.
 */
export function crashFunctions(
  logPath: string,
  hangOn: string | undefined,
  onHang: () => void = () => undefined,
): WorkflowFunctions {
  const log = (line: string) => appendFileSync(logPath, `${line}\n`);
  return {
    transforms: {
      gather: (input) => {
        log('gather');
        return { list: ['a', 'b', 'c', 'd'], topic: input };
      },
      item: (input, call: NodeCallContext) => {
        log(`item ${String(input)} ${call.idempotencyKey.split(':').slice(1).join(':')}`);
        if (input === hangOn) {
          onHang();
          return new Promise(() => undefined);
        }
        return String(input).toUpperCase();
      },
      write: (input) => {
        log('write');
        const { items } = input as { items: string[] };
        return items.join('');
      },
    },
  };
}
