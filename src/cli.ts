#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerLabCommands } from './cli/lab-commands.js';
import { registerDoctorCommand } from './cli/doctor-command.js';
import { registerRunCommand } from './cli/run-command.js';
import { registerReportCommands } from './cli/report-commands.js';
import { registerTestsCommand } from './cli/tests-command.js';
import { registerHostsCommand } from './cli/hosts-command.js';
import { registerVerifyCommand } from './cli/verify-command.js';
import { registerK8sCommand } from './cli/k8s-command.js';
import { isAborting } from './apply/cleanup.js';
import { CnlabError, oneLine } from './errors.js';
import { VERSION } from './version.js';

// A closed pipe (cnlab … | head) must not kill cnlab before it has cleaned up.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

const program = new Command();
program
  .name('cnlab')
  .description('Build container-network schemes in network namespaces and measure them against the host network')
  .version(VERSION)
  .showHelpAfterError(false)
  .configureOutput({ writeErr: () => {} })
  .exitOverride();

registerLabCommands(program);
registerDoctorCommand(program);
registerRunCommand(program);
registerReportCommands(program);
registerTestsCommand(program);
registerHostsCommand(program);
registerVerifyCommand(program);
registerK8sCommand(program);
for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => {} });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // Interrupted: the signal handler is tearing down and will exit with 128 + signal.
  if (isAborting()) await new Promise(() => {});
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') process.exit(0);
    process.stderr.write(`cnlab: ${e.message.replace(/^error: /, '')} — see: cnlab --help\n`);
    process.exit(2);
  }
  process.stderr.write(`cnlab: ${oneLine(e)}\n`);
  process.exit(e instanceof CnlabError ? e.exitCode : 1);
}
