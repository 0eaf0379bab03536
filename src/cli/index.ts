import { Command, InvalidArgumentError } from 'commander';
import { PipewrightError } from '../core/index.ts';
import { runDemo } from './demo-command.ts';
import {
  listRunsCommand,
  resumeWorkflowCommand,
  runWorkflowCommand,
  type RunCommandOptions,
  type WorkflowCommandOptions,
} from './run-command.ts';
import { runServe } from './serve-command.ts';
import { runSim } from './sim-command.ts';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('must be an integer from 0 to 65535');
  return port;
}

function parsePositiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('must be a positive integer');
  return number;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const storeHelp = "SQLite store file (default: the config's store.path, .pipewright/pipewright.db)";
const simHelp =
  'start the SIMULATED provider in-process (no API key, synthetic answers); with --config it is ${SIM_URL}, without one every model group the workflow names points at it';

/** The `pipewright` command. */
export async function runCli(argv: string[]): Promise<void> {
  const program = new Command()
    .name('pipewright')
    .description('Universal AI pipeline engine: gateway, library and workflow orchestrator')
    .showHelpAfterError();

  program
    .command('serve')
    .description('run the OpenAI-compatible gateway')
    .option('-c, --config <file>', 'configuration file', 'pipewright.yaml')
    .option('--host <host>', 'address to bind (default: server.host, 127.0.0.1)')
    .option('-p, --port <port>', 'port to listen on (default: server.port, 4000)', parsePort)
    .action(async (options: { config: string; host?: string; port?: number }) => runServe(options));

  program
    .command('sim')
    .description(
      'run the simulated provider alone (OpenAI, Anthropic and Gemini wire formats) — never a real model',
    )
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('-p, --port <port>', 'port to listen on', parsePort, 4010)
    .option('-c, --config <file>', 'fault-injection config (YAML or JSON)')
    .option('--seed <seed>', "random seed for injected faults (default: the config file's, else 1)")
    .action(async (options: { host: string; port: number; config?: string; seed?: string }) =>
      runSim(options),
    );

  program
    .command('demo')
    .description(
      'start the sim and the gateway, send a mix of calls through the library and over HTTP, print a summary',
    )
    .option('--keep-running', 'leave the gateway and sim running after the summary')
    .action(async (options: { keepRunning?: boolean }) => runDemo(options));

  program
    .command('run')
    .description('run a workflow (YAML) with live progress, then print its outputs')
    .argument('<workflow>', 'workflow definition file (YAML)')
    .option(
      '-i, --input <key=value>',
      'an input of the workflow (repeatable); the value is JSON when it parses, else text',
      collect,
      [],
    )
    .option(
      '-c, --config <file>',
      'gateway configuration (deployments, model groups, step types); default pipewright.yaml when present',
    )
    .option('--sim', simHelp)
    .option('--store <file>', storeHelp)
    .option('--tenant <id>', "tenant the run belongs to (default: the config's defaultTenant)")
    .option('--run-id <id>', 'choose the run id (default: generated)')
    .option(
      '--concurrency <n>',
      "nodes of this run running at once (default: the workflow's)",
      parsePositiveInteger,
    )
    .option('--json', 'print the result as JSON on stdout (progress stays on stderr)')
    .addHelpText(
      'after',
      '\nExit codes: 0 succeeded, 1 failed or cancelled (or bad input), 2 partial, 130 interrupted (resume it).\nExample: pipewright run examples/workflows/campaign.yaml --sim --input brief="Launch our green tea to office workers"',
    )
    .action(async (file: string, options: RunCommandOptions) => {
      process.exitCode = await runWorkflowCommand(file, options);
    });

  program
    .command('resume')
    .description('continue an interrupted workflow run (succeeded nodes are not re-run)')
    .argument('<run-id>', 'the run to continue (see `pipewright runs`)')
    .option('-c, --config <file>', 'gateway configuration; default pipewright.yaml when present')
    .option('--sim', simHelp)
    .option('--store <file>', storeHelp)
    .option('--tenant <id>', "tenant of the run (default: the config's defaultTenant)")
    .option('--json', 'print the result as JSON on stdout')
    .action(async (runId: string, options: WorkflowCommandOptions) => {
      process.exitCode = await resumeWorkflowCommand(runId, options);
    });

  program
    .command('runs')
    .description('list recent workflow runs, newest first')
    .option(
      '-c, --config <file>',
      'gateway configuration (for store.path and defaultTenant); default pipewright.yaml when present',
    )
    .option('--store <file>', storeHelp)
    .option('--tenant <id>', "tenant whose runs to list (default: the config's defaultTenant)")
    .option(
      '--status <status>',
      'only runs with this status (running, succeeded, partial, failed, cancelled)',
    )
    .option('--limit <n>', 'how many (default 20)', parsePositiveInteger)
    .option('--json', 'print the runs as JSON')
    .action(async (options: WorkflowCommandOptions & { limit?: number; status?: string }) => {
      process.exitCode = await listRunsCommand(options);
    });

  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (PipewrightError.isInstance(error)) {
      process.stderr.write(`pipewright: ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}
