import type { Clock } from '../core/index.ts';
import type { ActiveRun, NodeState } from './active-run.ts';
import {
  callNodeFunction,
  evaluateCondition,
  resolveNodeBinding,
  type BindingScope,
  type NodeCallResult,
  type WorkflowEngine,
} from './call-node-function.ts';
import type { CompiledNode } from './compile-workflow.ts';
import { createWorkflowError } from './workflow-definition-error.ts';
import type { GateVerdict, NodeCallContext } from './workflow-definition.ts';

// The node executor: computes one node's output — a model call, a transform, a branch's choice,
// a map's items, a gate's verdict, a wait's join — from the run's context and the outputs of the
// nodes it reads. The runner records what it returns; the executor itself commits only the
// progress inside a node (finished map items, a gate's failed checks, a re-run target).

/** What the executor needs from the runner around it. */
export interface ExecutorHooks {
  engine: WorkflowEngine | undefined;
  clock: Clock;
  /** Records a node's success (a gate's re-run target). */
  succeed(run: ActiveRun, state: NodeState, output: unknown, costUsd: number): Promise<void>;
  /** Cancels a node that lost an any-of race (running: aborted; queued or pending: cancelled). */
  cancelNode(run: ActiveRun, state: NodeState): void;
}

/** A node's computed output, what it cost, and event data for its success. */
export interface ProducedOutput {
  output: unknown;
  costUsd: number;
  extra?: { data?: Record<string, unknown> };
}

type Adjustment = { modelGroup?: string; parameters?: Record<string, unknown> };

/**
 * Computes a node's output (or, with `substitute`, the output of the standby node run in its
 * place). `feedback` carries a gate's reasons into a re-run.
 */
export async function produceOutput(
  hooks: ExecutorHooks,
  run: ActiveRun,
  state: NodeState,
  signal: AbortSignal,
  feedback: string[],
  substitute?: CompiledNode,
): Promise<ProducedOutput> {
  const node = substitute ?? state.node;
  const definition = node.definition;
  const bindingScope = scope(run, node.id, state.record.startVersion ?? run.context.version);
  // A substitute is another call: it must not share the failed attempt's idempotency key.
  const suffix = substitute === undefined ? '' : `:${substitute.id}`;
  const call = callContext(run, state, node.id, feedback, signal, suffix);
  switch (definition.type) {
    case 'model':
    case 'transform': {
      const input =
        definition.input === undefined ? undefined : await resolveNodeBinding(definition.input, bindingScope);
      const result = await callNodeFunction({
        definition,
        transform: node.transform,
        engine: hooks.engine,
        input,
        call,
        readableFields: readableFields(run, node),
        adjust: adjustment(state),
        journal: run.journal.modelCalls(node.id),
      });
      return { output: result.output, costUsd: result.costUsd, extra: { data: replayMarks(result) } };
    }
    case 'branch': {
      for (const [index, branchCase] of definition.cases.entries()) {
        if (await evaluateCondition(branchCase.when, node.conditions[index], bindingScope, call))
          return { output: { case: index, chosen: branchCase.then }, costUsd: 0 };
      }
      return { output: { case: definition.cases.length, chosen: definition.otherwise ?? [] }, costUsd: 0 };
    }
    case 'map':
      return runMap(hooks, run, state, node, { scope: bindingScope, signal, feedback });
    case 'gate':
      return runGate(hooks, run, state, node, signal);
    case 'wait':
      return { output: joinWaited(hooks, run, definition.for, definition.mode ?? 'all'), costUsd: 0 };
  }
}

/** A wait node's output: every output (all), each outcome (settled), or the first success (any). */
function joinWaited(
  hooks: ExecutorHooks,
  run: ActiveRun,
  ids: readonly string[],
  mode: 'all' | 'any' | 'settled',
): unknown {
  const members = ids.map((id) => [id, run.states.get(id)] as const);
  if (mode === 'any') {
    const winner = members.find(([, member]) => member?.record.status === 'succeeded');
    for (const [, member] of members)
      if (member !== undefined && member !== winner?.[1]) hooks.cancelNode(run, member);
    return { winner: winner?.[0], output: winner?.[1]?.output };
  }
  if (mode === 'settled') {
    return Object.fromEntries(
      members.map(([id, member]) => [
        id,
        { status: member?.record.status, output: member?.output, error: member?.record.error ?? undefined },
      ]),
    );
  }
  return Object.fromEntries(members.map(([id, member]) => [id, member?.output]));
}

/** What a node's function sees of its call: ids, attempt, idempotency key, context, signal. */
function callContext(
  run: ActiveRun,
  state: NodeState,
  nodeId: string,
  feedback: string[],
  signal: AbortSignal,
  suffix = '',
): NodeCallContext {
  const attempt = state.record.attempt;
  return {
    runId: run.record.runId,
    nodeId,
    tenantId: run.record.tenantId,
    attempt,
    idempotencyKey: `${run.record.runId}:${state.node.id}:${attempt}${suffix}`,
    context: run.context.reader(nodeId, state.record.startVersion ?? run.context.version),
    parameters: {},
    feedback,
    signal,
  };
}

function scope(run: ActiveRun, nodeId: string, version: number): BindingScope {
  return { context: run.context.reader(nodeId, version), nodeOutput: (id) => run.states.get(id)?.output };
}

function readableFields(run: ActiveRun, node: CompiledNode): string[] {
  return node.reads === '*' ? [...run.workflow.fields.keys()] : [...node.reads];
}

/** This attempt's `onError.adjust` entry (none on the first attempt; the last one repeats). */
function adjustment(state: NodeState): Adjustment {
  const adjust = state.node.definition.onError?.adjust;
  if (adjust === undefined || adjust.length === 0 || state.record.attempt < 2) return {};
  return adjust[Math.min(state.record.attempt - 2, adjust.length - 1)] ?? {};
}

/**
 * Event data marking a replayed model call (its cost was paid once, before a crash, and is counted
 * once in the run) or a result that could not be stored.
 */
function replayMarks(result: NodeCallResult): Record<string, unknown> {
  return {
    ...(result.replayed === true ? { replayed: true } : {}),
    ...(result.notStored === undefined ? {} : { modelCallNotStored: result.notStored }),
  };
}

/**
 * Runs a map node's items under its concurrency, in input order; each finished item is committed
 * as the node's progress, so retries and resumes keep it (a gate's re-run starts afresh).
 */
async function runMap(
  hooks: ExecutorHooks,
  run: ActiveRun,
  state: NodeState,
  node: CompiledNode,
  options: { scope: BindingScope; signal: AbortSignal; feedback: string[] },
): Promise<ProducedOutput> {
  if (node.definition.type !== 'map') throw new Error('not a map node');
  const { signal, feedback } = options;
  const definition = node.definition;
  const items = await resolveNodeBinding(definition.over, options.scope);
  if (!Array.isArray(items))
    throw createWorkflowError(
      'workflow.context_invalid',
      `node ${node.id}: ${definition.over} is not a list`,
      {
        details: { nodeId: node.id },
      },
    );
  const done =
    feedback.length > 0 ? {} : ((state.record.progress?.items as Record<string, unknown> | undefined) ?? {});
  const results: unknown[] = new Array<unknown>(items.length);
  const adjust = adjustment(state);
  const readable = readableFields(run, node);
  let costUsd = 0;
  let next = 0;
  const limit = Math.min(definition.concurrency ?? 4, Math.max(1, items.length));
  const worker = async () => {
    while (next < items.length) {
      if (signal.aborted) throw signal.reason;
      const index = next;
      next += 1;
      if (String(index) in done) {
        results[index] = done[String(index)];
        continue;
      }
      const itemScope = { ...options.scope, item: items[index], index };
      const input =
        definition.node.input === undefined
          ? items[index]
          : await resolveNodeBinding(definition.node.input, itemScope);
      const result = await callNodeFunction({
        definition: definition.node,
        transform: node.itemTransform,
        engine: hooks.engine,
        input,
        call: callContext(run, state, node.id, feedback, signal, `:${index}`),
        readableFields: readable,
        adjust,
        journal: run.journal.modelCalls(node.id),
      });
      results[index] = result.output;
      costUsd += result.costUsd;
      done[String(index)] = result.output;
      await commitMapItem(hooks, run, state, { index, done, result });
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  // Item costs were added to the run as they finished; report none twice.
  state.record.costUsd -= costUsd;
  run.record.costUsd -= costUsd;
  return { output: results, costUsd };
}

function commitMapItem(
  hooks: ExecutorHooks,
  run: ActiveRun,
  state: NodeState,
  item: { index: number; done: Record<string, unknown>; result: NodeCallResult },
): Promise<void> {
  const { index, done, result } = item;
  return run.journal.serial(async () => {
    state.record.progress = { items: { ...done } };
    state.record.costUsd += result.costUsd;
    run.record.costUsd += result.costUsd;
    state.record.updatedAt = hooks.clock.now();
    await run.journal.commit({
      nodes: [{ ...state.record }],
      events: [
        run.journal.event('map-item-succeeded', state.node.id, {
          index,
          costUsd: result.costUsd,
          ...replayMarks(result),
        }),
      ],
    });
  });
}

/**
 * Checks the gate's target output: passes, flags, re-runs the target with the reasons as
 * feedback (up to `maxReruns`), or rejects with `workflow.gate_rejected`.
 */
async function runGate(
  hooks: ExecutorHooks,
  run: ActiveRun,
  state: NodeState,
  node: CompiledNode,
  signal: AbortSignal,
): Promise<ProducedOutput> {
  if (node.definition.type !== 'gate' || node.gate === undefined) throw new Error('not a gate node');
  const definition = node.definition;
  const target = run.states.get(definition.target) as NodeState;
  let reruns = Number(state.record.progress?.reruns ?? 0);
  for (;;) {
    const gateScope = scope(run, node.id, run.context.version);
    const value =
      definition.input === undefined ? target.output : await resolveNodeBinding(definition.input, gateScope);
    const verdict: GateVerdict = await node.gate(value, {
      ...callContext(run, state, node.id, [], signal),
      context: gateScope.context,
      parameters: { ...definition.parameters },
    });
    const reasons = Array.isArray(verdict.reasons) ? verdict.reasons.map(String) : [];
    const scored =
      verdict.score === undefined ||
      definition.threshold === undefined ||
      verdict.score >= definition.threshold;
    const pass = verdict.pass === true && scored;
    const output = { pass, score: verdict.score ?? null, reasons, flagged: false };
    if (pass) return { output, costUsd: 0 };
    const onFail = definition.onFail ?? 'reject';
    await run.journal.serial(() =>
      run.journal.commit({
        events: [
          run.journal.event('gate-failed', node.id, {
            target: definition.target,
            score: verdict.score ?? null,
            reasons,
            action: onFail,
            reruns,
          }),
        ],
      }),
    );
    if (onFail === 'flag') return { output: { ...output, flagged: true }, costUsd: 0 };
    if (onFail === 'rerun' && reruns < (definition.maxReruns ?? 2)) {
      reruns += 1;
      state.record.progress = { reruns };
      await rerunTarget(hooks, run, target, reasons, signal);
      continue;
    }
    throw createWorkflowError(
      'workflow.gate_rejected',
      `gate ${node.id} rejected ${definition.target}: ${reasons.join('; ') || 'no reasons given'}`,
      {
        details: {
          nodeId: node.id,
          target: definition.target,
          score: verdict.score ?? null,
          reasons,
          reruns,
        },
      },
    );
  }
}

/** Runs a gate's target again (a new attempt, the reasons as feedback) and records its success. */
async function rerunTarget(
  hooks: ExecutorHooks,
  run: ActiveRun,
  target: NodeState,
  feedback: string[],
  signal: AbortSignal,
): Promise<void> {
  await run.journal.serial(async () => {
    target.record.attempt += 1;
    target.record.status = 'running';
    target.record.startVersion = run.context.version;
    target.record.progress = null;
    target.record.updatedAt = hooks.clock.now();
    await run.journal.commit({
      nodes: [{ ...target.record }],
      events: [
        run.journal.event('node-started', target.node.id, { attempt: target.record.attempt, feedback }),
      ],
    });
  });
  const { output, costUsd } = await produceOutput(hooks, run, target, signal, feedback);
  await hooks.succeed(run, target, output, costUsd);
}
