import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { stableStringify } from '../core/index.ts';
import type { ContextWriteRecord } from '../store/index.ts';
import type { CompiledNode, CompiledWorkflow } from './compile-workflow.ts';
import { createWorkflowError } from './workflow-definition-error.ts';
import type { ContextReader } from './workflow-definition.ts';

export type { ContextReader } from './workflow-definition.ts';

/** Writes checked and versioned, ready to be committed with the node's transition. */
export interface PreparedWrites {
  version: number;
  records: ContextWriteRecord[];
  blobs: Array<{ hash: string; content: string }>;
  /** Older rows the history bound lets go (field, version). */
  truncated: Array<{ field: string; version: number }>;
}

export interface ContextManagerOptions {
  workflow: CompiledWorkflow;
  tenantId: string;
  runId: string;
  /** Loads a blob's JSON by hash (the store). */
  loadBlob: (hash: string) => Promise<string | undefined>;
  /** Writes already persisted (a resumed run), in any order. */
  history?: readonly ContextWriteRecord[];
  /** The run's latest committed version (a version may write no field, e.g. an empty input). */
  latestVersion?: number;
  now: () => number;
}

/**
 * The versioned, permissioned context of one run. Every write (one per node commit) creates a
 * new version; readers see the snapshot of a version; values larger than the workflow's
 * `blobThresholdBytes` are kept by reference (sha256 of their JSON) and loaded on read; history
 * beyond `history.maxVersions` is truncated, never below a version a running node still reads.
 *
 * @example
 * const context = createContextManager({ workflow, tenantId, runId, loadBlob, now: Date.now });
 * const initial = context.prepareWrites(null, { brief: 'Tea for all' }); // version 0
 * context.apply(initial); // after the store committed it
 * await context.reader('draft', initial.version).get('brief');
 */
export interface ContextManager {
  /** The latest committed version (-1 before the initial write). */
  readonly version: number;
  /** The oldest version still readable. */
  readonly oldestVersion: number;
  reader(nodeId: string, version: number): ContextReader;
  /** Every field's value at `version` (no permission check: outputs, the API). */
  snapshot(version?: number): Promise<Record<string, unknown>>;
  /** Checks permissions, schemas and rules; `nodeId` null is the run's initial write. */
  prepareWrites(nodeId: string | null, values: Readonly<Record<string, unknown>>): Promise<PreparedWrites>;
  /** Makes prepared writes visible, once the store has committed them. */
  apply(prepared: PreparedWrites): void;
  /** Keeps `version` readable while a node runs on it. */
  pin(version: number): void;
  unpin(version: number): void;
}

type Stored =
  { version: number; inline: true; value: unknown } | { version: number; inline: false; hash: string };

export function createContextManager(options: ContextManagerOptions): ContextManager {
  const { workflow } = options;
  const writes = new Map<string, Stored[]>();
  const blobs = new LRUCache<string, { value: unknown }>({ max: 256 });
  const pins = new Map<number, number>();
  let version = -1;
  let oldestVersion = 0;

  for (const record of [...(options.history ?? [])].sort((a, b) => a.version - b.version)) {
    addStored(writes, record);
    version = Math.max(version, record.version);
  }
  version = Math.max(version, options.latestVersion ?? -1);
  if (version >= 0) {
    // After truncation the oldest readable version is the oldest version every field still covers.
    oldestVersion = Math.max(0, version - workflow.maxVersions + 1);
  }

  const storedAt = (field: string, at: number) => latestStored(writes.get(field), at);

  async function valueOf(stored: Stored | undefined, field: string): Promise<unknown> {
    if (stored === undefined) return undefined;
    if (stored.inline) return stored.value;
    const cached = blobs.get(stored.hash);
    if (cached !== undefined) return cached.value;
    const content = await options.loadBlob(stored.hash);
    if (content === undefined)
      throw createWorkflowError(
        'store.failure',
        `context field "${field}": blob ${stored.hash} is missing from the store`,
      );
    const value = parseJson(content);
    blobs.set(stored.hash, { value });
    return value;
  }

  const checkVersion = (at: number) => checkReadable(options.runId, at, oldestVersion, version);

  async function snapshot(at = version): Promise<Record<string, unknown>> {
    checkVersion(at);
    const values: Record<string, unknown> = {};
    for (const field of workflow.fields.keys()) {
      const value = await valueOf(storedAt(field, at), field);
      if (value !== undefined) values[field] = value;
    }
    return values;
  }

  /** The oldest version a running node still reads (Infinity when none). */
  const minimumPinned = () => Math.min(...pins.keys());

  return {
    get version() {
      return version;
    },
    get oldestVersion() {
      return oldestVersion;
    },

    reader(nodeId, at) {
      const node = workflow.nodes.get(nodeId);
      return {
        version: at,
        async get(field) {
          checkReadAllowed(workflow, node, nodeId, field);
          checkVersion(at);
          return valueOf(storedAt(field, at), field);
        },
      };
    },

    snapshot,

    async prepareWrites(nodeId, values) {
      const next = version + 1;
      const found = checkValues(workflow, nodeId, values);
      if (found.length === 0 && workflow.rules.length > 0) {
        const after = version < 0 ? {} : await snapshot(version);
        found.push(...checkRules(workflow, Object.assign(after, values)));
      }
      if (found.length > 0) {
        const problems = found.map((problem) => problem.text);
        // `param`: the first field at fault (a rule over several fields names none).
        const field = found[0]?.field;
        throw createWorkflowError(
          'workflow.context_invalid',
          `${nodeId === null ? 'run input' : `node ${nodeId}`}: ${problems.join('; ')}`,
          { details: { problems, nodeId }, ...(field === undefined ? {} : { param: field }) },
        );
      }
      const records: ContextWriteRecord[] = [];
      const newBlobs: Array<{ hash: string; content: string }> = [];
      const base = {
        tenantId: options.tenantId,
        runId: options.runId,
        version: next,
        nodeId,
        time: options.now(),
      };
      for (const [field, value] of Object.entries(values)) {
        const json = stableStringify(value);
        if (Buffer.byteLength(json) > workflow.blobThresholdBytes) {
          const hash = createHash('sha256').update(json).digest('hex');
          newBlobs.push({ hash, content: json });
          blobs.set(hash, { value });
          records.push({ ...base, field, valueJson: null, blobHash: hash });
        } else {
          records.push({ ...base, field, valueJson: json, blobHash: null });
        }
      }
      // The history bound: keep versions above the floor, plus each field's value at the floor.
      const floor = Math.min(next - workflow.maxVersions + 1, minimumPinned());
      const truncated = floor > oldestVersion ? listTruncated(writes, floor) : [];
      return { version: next, records, blobs: newBlobs, truncated };
    },

    apply(prepared) {
      for (const record of prepared.records) addStored(writes, record);
      if (prepared.truncated.length > 0) {
        const gone = new Set(prepared.truncated.map((entry) => `${entry.field}\u0000${entry.version}`));
        for (const [field, list] of writes)
          writes.set(
            field,
            list.filter((entry) => !gone.has(`${field}\u0000${entry.version}`)),
          );
      }
      version = Math.max(version, prepared.version);
      oldestVersion = Math.max(oldestVersion, Math.min(version - workflow.maxVersions + 1, minimumPinned()));
    },

    pin(at) {
      pins.set(at, (pins.get(at) ?? 0) + 1);
    },
    unpin(at) {
      const count = (pins.get(at) ?? 0) - 1;
      if (count <= 0) pins.delete(at);
      else pins.set(at, count);
    },
  };
}

function parseJson(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}

/** A problem with a write: the field at fault (none for a rule over the context) and the text. */
interface ContextProblem {
  field: string | undefined;
  text: string;
}

const rootPrefix = '(root): ';

/**
 * Checks each written value: a known field, one the node declared and may write (a permission
 * error is thrown at once), a value present and valid under the field's schema. Returns the
 * problems, each naming its field.
 */
function checkValues(
  workflow: CompiledWorkflow,
  nodeId: string | null,
  values: Readonly<Record<string, unknown>>,
): ContextProblem[] {
  const node = nodeId === null ? undefined : workflow.nodes.get(nodeId);
  const problems: ContextProblem[] = [];
  for (const [field, value] of Object.entries(values)) {
    const compiled = workflow.fields.get(field);
    if (compiled === undefined) {
      problems.push({ field, text: `${field}: not a context field` });
      continue;
    }
    if (nodeId !== null) {
      const declared = node?.writes.some((write) => write.field === field) === true;
      if (!declared || (compiled.writers !== undefined && !compiled.writers.has(nodeId))) {
        throw createWorkflowError(
          'workflow.permission_denied',
          `node ${nodeId} may not write context field "${field}"`,
          {
            param: field,
            details: { nodeId, field },
          },
        );
      }
    }
    if (value === undefined) {
      problems.push({ field, text: `${field}: no value (the node's output lacks it)` });
      continue;
    }
    const result = compiled.check?.check(value);
    if (result !== undefined && !result.ok)
      problems.push(
        ...result.problems.map((problem) => ({
          field,
          // A problem with the whole value reads "(root): …"; the field's name says where already.
          text: `${field}: ${problem.startsWith(rootPrefix) ? problem.slice(rootPrefix.length) : problem}`,
        })),
      );
  }
  return problems;
}

/** The workflow's validation rules over the context as it would be after the write. */
function checkRules(workflow: CompiledWorkflow, after: Readonly<Record<string, unknown>>): ContextProblem[] {
  const problems: ContextProblem[] = [];
  for (const rule of workflow.rules) {
    let verdict: true | string;
    try {
      verdict = rule.check(after);
    } catch (error) {
      verdict = (error as Error).message;
    }
    if (verdict !== true)
      problems.push({ field: undefined, text: `rule ${rule.id}: ${rule.message ?? verdict}` });
  }
  return problems;
}

/** The rows below `floor` the history bound lets go: each field keeps its value at the floor. */
function listTruncated(
  writes: ReadonlyMap<string, readonly Stored[]>,
  floor: number,
): Array<{ field: string; version: number }> {
  const truncated: Array<{ field: string; version: number }> = [];
  for (const [field, list] of writes) {
    let keepFrom = 0;
    for (let index = 0; index < list.length; index += 1)
      if ((list[index] as Stored).version <= floor) keepFrom = index;
    for (let index = 0; index < keepFrom; index += 1)
      truncated.push({ field, version: (list[index] as Stored).version });
  }
  return truncated;
}

function checkReadable(runId: string, at: number, oldestVersion: number, latestVersion: number): void {
  if (at < oldestVersion || at > latestVersion) {
    throw createWorkflowError(
      'workflow.context_version_gone',
      `context version ${at} of run ${runId} is not readable (readable: ${oldestVersion}..${latestVersion})`,
      { details: { version: at, oldestVersion, latestVersion } },
    );
  }
}

/** The write of a field visible at version `at`: its latest at or below it. */
function latestStored(list: readonly Stored[] | undefined, at: number): Stored | undefined {
  if (list === undefined) return undefined;
  for (let index = list.length - 1; index >= 0; index -= 1) {
    const entry = list[index] as Stored;
    if (entry.version <= at) return entry;
  }
  return undefined;
}

function addStored(writes: Map<string, Stored[]>, record: ContextWriteRecord): void {
  const list = writes.get(record.field) ?? [];
  list.push(
    record.blobHash === null
      ? { version: record.version, inline: true, value: parseJson(record.valueJson) }
      : { version: record.version, inline: false, hash: record.blobHash },
  );
  writes.set(record.field, list);
}

/** A node may read a field it was granted (`reads`) that the field's `access.read` allows. */
function checkReadAllowed(
  workflow: CompiledWorkflow,
  node: CompiledNode | undefined,
  nodeId: string,
  field: string,
): void {
  const compiled = workflow.fields.get(field);
  if (compiled === undefined)
    throw createWorkflowError(
      'workflow.permission_denied',
      `node ${nodeId} read unknown context field "${field}"`,
      {
        param: field,
      },
    );
  const allowed =
    node !== undefined &&
    (node.reads === '*' || node.reads.has(field)) &&
    (compiled.readers === undefined || compiled.readers.has(nodeId));
  if (!allowed)
    throw createWorkflowError(
      'workflow.permission_denied',
      `node ${nodeId} may not read context field "${field}"`,
      {
        param: field,
        details: { nodeId, field },
      },
    );
}
