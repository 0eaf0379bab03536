// Run by workflow-crash.test.ts: starts the crash flow and prints "hanging" once the node it will
// be killed in is running. Arguments: the SQLite file, the call log, the run id.
import { createSqliteStore } from '../../store/index.ts';
import { createWorkflowRunner } from '../workflow-runner.ts';
import { crashFlow, crashFunctions } from './crash-flow.ts';

const [path, logPath, runId] = process.argv.slice(2);
if (path === undefined || logPath === undefined || runId === undefined)
  throw new Error('usage: crash-child DB LOG RUN_ID');
const store = await createSqliteStore({ path });
const functions = crashFunctions(logPath, 'c', () => process.stdout.write('hanging\n'));
const runner = createWorkflowRunner({ store: store.workflows, functions });
await runner.start(crashFlow, { topic: 'tea' }, { runId });
