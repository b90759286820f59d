// How scripts/run-bench.js reads its command line: benchmark names first, then the benchmark's own
// options, which start at the first argument beginning with '-' (an explicit '--' there is dropped).
// So `node scripts/run-bench.js classifier -- --sizes 1k` and `npm run bench:classifier -- --sizes 1k`
// (npm eats the '--', leaving `classifier --sizes 1k`) both pass `--sizes 1k` to bench/classifier.ts;
// before, the second ran the whole suite and then failed on a benchmark named "--sizes".

/** @param {string[]} argv  @returns {{ names: string[], passThrough: string[] }} */
export function splitBenchArgs(argv) {
  let split = argv.findIndex((a) => a.startsWith('-'));
  if (split < 0) split = argv.length;
  return { names: argv.slice(0, split), passThrough: argv.slice(argv[split] === '--' ? split + 1 : split) };
}
