import type { WorkflowEventRecord, WorkflowNodeStatus } from '../store/index.ts';
import type { WorkflowRunView } from '../workflow/index.ts';

export interface WorkflowProgressOptions {
  /** Where progress goes (stderr, so stdout keeps only the summary). */
  output: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** A redrawn status line on a terminal, plain lines otherwise (default: `output.isTTY`). */
  live?: boolean;
  /** Between two redraws of the live line (default 100 ms). */
  redrawMs?: number;
  now?: () => number;
}

export interface WorkflowProgress {
  /** What the run looked like when following started (nodes done before a resume count as done). */
  begin(view: WorkflowRunView): void;
  update(event: WorkflowEventRecord): void;
  /** Clears the live line (the summary is printed after). */
  end(): void;
  /** The cost so far, as the events reported it. */
  readonly costUsd: number;
}

const done = new Set<WorkflowNodeStatus>(['succeeded', 'failed', 'skipped', 'cancelled']);
const spinner = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * The live display of `pipewright run` and `resume`: nodes done of total, running nodes (a map's
 * finished items), cost so far and elapsed time, on one redrawn line on a terminal; one line per
 * node transition otherwise (logs, CI).
 *
 * @example
 * const progress = createWorkflowProgress({ output: process.stderr });
 * progress.begin(await runner.get(runId));
 * for await (const event of runner.events(runId, { afterSeq })) progress.update(event);
 * progress.end();
 */
export function createWorkflowProgress(options: WorkflowProgressOptions): WorkflowProgress {
  const { output } = options;
  const live = options.live ?? output.isTTY === true;
  const now = options.now ?? (() => performance.now());
  const startedAt = now();
  const statuses = new Map<string, WorkflowNodeStatus>();
  const items = new Map<string, { count: number; costUsd: number }>();
  let costUsd = 0;
  let label = '';
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  let drawn = false;

  const elapsed = () => formatDuration(now() - startedAt);
  const line = (text: string) => output.write(`[${elapsed().padStart(7)}] ${text}\n`);

  function draw(): void {
    const finished = [...statuses.values()].filter((status) => done.has(status)).length;
    const running = [...statuses.entries()]
      .filter(([, status]) => status === 'running')
      .map(([id]) => {
        const mapped = items.get(id);
        return mapped === undefined || mapped.count === 0 ? id : `${id} (${mapped.count} items)`;
      });
    frame = (frame + 1) % spinner.length;
    const text = `${spinner[frame] ?? ''} ${label}  ${finished}/${statuses.size} nodes  ${running.length > 0 ? `running: ${running.join(', ')}` : 'waiting'}  ${formatCost(costUsd)}  ${elapsed()}`;
    // A pseudo-terminal may report 0 columns: treat it as unknown.
    const width = Math.max(
      20,
      (output.columns !== undefined && output.columns > 0 ? output.columns : 100) - 1,
    );
    output.write(`\r\u001b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    drawn = true;
  }

  return {
    get costUsd() {
      return costUsd;
    },
    begin(view) {
      label = `${view.run.workflowId} v${view.run.workflowVersion}`;
      costUsd = view.run.costUsd;
      for (const node of view.nodes) statuses.set(node.nodeId, node.status);
      if (live) {
        draw();
        timer = setInterval(draw, options.redrawMs ?? 100);
        timer.unref();
      }
    },
    update(event) {
      const id = event.nodeId;
      const data = event.data;
      const cost = typeof data.costUsd === 'number' ? data.costUsd : 0;
      const error = data.error as { message?: string } | undefined;
      if (id !== null) {
        switch (event.type) {
          case 'node-ready':
            statuses.set(id, 'ready');
            break;
          case 'node-started':
            statuses.set(id, 'running');
            // Item costs of this attempt are counted again in its node-succeeded event.
            items.set(id, { count: items.get(id)?.count ?? 0, costUsd: 0 });
            if (!live)
              line(
                `started   ${id}${typeof data.attempt === 'number' && data.attempt > 1 ? ` (attempt ${data.attempt})` : ''}`,
              );
            break;
          case 'map-item-succeeded': {
            const mapped = items.get(id) ?? { count: 0, costUsd: 0 };
            items.set(id, { count: mapped.count + 1, costUsd: mapped.costUsd + cost });
            costUsd += cost;
            break;
          }
          case 'node-succeeded':
            statuses.set(id, 'succeeded');
            costUsd += cost - (items.get(id)?.costUsd ?? 0);
            items.delete(id);
            if (!live) line(`succeeded ${id}  ${formatCost(cost)}`);
            break;
          case 'node-retrying':
            statuses.set(id, 'ready');
            if (!live)
              line(`retrying  ${id} (attempt ${String(data.attempt)}): ${error?.message ?? 'failed'}`);
            break;
          case 'node-failed':
            statuses.set(id, 'failed');
            if (!live) line(`failed    ${id}: ${error?.message ?? 'failed'}`);
            break;
          case 'node-skipped':
            statuses.set(id, 'skipped');
            if (!live) line(`skipped   ${id}: ${String(data.reason ?? '')}`);
            break;
          case 'node-cancelled':
            statuses.set(id, 'cancelled');
            if (!live) line(`cancelled ${id}: ${String(data.reason ?? '')}`);
            break;
          case 'gate-failed':
            if (!live)
              line(
                `gate      ${id} failed on ${String(data.target)} (${String(data.action)}): ${Array.isArray(data.reasons) ? data.reasons.join('; ') : ''}`,
              );
            break;
        }
      } else if (event.type === 'run-finished' && typeof data.costUsd === 'number') {
        costUsd = data.costUsd;
      } else if (event.type === 'run-resumed' && !live) {
        line(
          `resumed   (re-running: ${Array.isArray(data.interrupted) && data.interrupted.length > 0 ? data.interrupted.join(', ') : 'none'})`,
        );
      }
      if (live) draw();
    },
    end() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      if (drawn) output.write('\r\u001b[2K');
      drawn = false;
    },
  };
}

/** `850 ms`, `12.4 s`, `3 min 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1_000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

export function formatCost(costUsd: number): string {
  return `$${costUsd.toFixed(6)}`;
}
