/** `overcast bench ...`: the benchmarks users run on their own inputs. */
import type { Command } from 'commander';
import { nonNegativeInt } from './arg-parsers.js';
import { DEFAULT_BENCH_PASSES, runClassifierBench } from './bench-classifier.js';

export function registerBenchCommands(program: Command): void {
  const bench = program.command('bench').description('measure Overcast on your own inputs');
  bench
    .command('classifier')
    .description('classify a ClassBench trace with one classifier (priority = rule-file order)')
    .requiredOption('--rules <file>', 'ClassBench rule file (.br = brotli)')
    .requiredOption('--trace <file>', 'ClassBench trace file (.br = brotli)')
    .option('--algo <name>', 'classifier', 'default')
    .option('--json', 'print one JSON object')
    .option('--out <file>', 'write the matched rule line (0-based) per packet, -1 for none')
    .option('--check', 'verify every result against the linear reference; exit 1 on a difference')
    .option('--runs <n>', 'passes over the trace after the first, which also compiles and marks (their median reported; 0: the first pass)', nonNegativeInt, DEFAULT_BENCH_PASSES)
    .action(async (o) => {
      process.exitCode = await runClassifierBench({ ...o, json: Boolean(o.json), check: Boolean(o.check) });
    });
}
