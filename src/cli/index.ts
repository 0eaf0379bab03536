import { Command, InvalidArgumentError } from 'commander';
import { PipewrightError } from '../core/index.ts';
import { runDemo } from './demo-command.ts';
import { runServe } from './serve-command.ts';
import { runSim } from './sim-command.ts';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('must be an integer from 0 to 65535');
  return port;
}

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
    .description('run the simulated provider alone (OpenAI, Anthropic and Gemini wire formats) — never a real model')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('-p, --port <port>', 'port to listen on', parsePort, 4010)
    .option('-c, --config <file>', 'fault-injection config (YAML or JSON)')
    .option('--seed <seed>', 'random seed for injected faults (default: the config file\'s, else 1)')
    .action(async (options: { host: string; port: number; config?: string; seed?: string }) => runSim(options));

  program
    .command('demo')
    .description('start the sim and the gateway, send a mix of calls through the library and over HTTP, print a summary')
    .option('--keep-running', 'leave the gateway and sim running after the summary')
    .action(async (options: { keepRunning?: boolean }) => runDemo(options));

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
