/** @module The shape of one CLI command: its flag table and what it runs. */
import type { CommandSpec, FlagValues } from './flags.ts';

export interface CliCommand {
  spec: CommandSpec;
  /**
   * Start the role with fully resolved flags; resolves once it listens. Throws UsageError for bad values. `argv`:
   * the command line after the command name, for roles that resolve their flags again on a reload.
   */
  run(flags: FlagValues, env: NodeJS.ProcessEnv, argv?: readonly string[]): Promise<void>;
}
