// The import-layering check (npm run layers): dependencies point inward, as in docs/architecture.md.
// The pure core (errors, net, model, flow, compiler, classifier, protocol) imports no runtime and no
// Node module that does I/O; only the runtimes (switch, host, controller, api, lab) and cli touch sockets,
// files and clocks.
const layers = {
  errors: [],
  net: ['errors'],
  model: ['errors', 'net'],
  flow: ['errors', 'net'],
  compiler: ['errors', 'net', 'model', 'flow'],
  classifier: ['errors', 'net', 'flow'],
  protocol: ['errors', 'net', 'flow'],
  switch: ['errors', 'net', 'flow', 'classifier', 'protocol'],
  controller: ['errors', 'net', 'model', 'flow', 'compiler', 'protocol', 'classifier'],
  api: ['errors', 'net', 'model', 'flow', 'controller'],
  host: ['errors', 'net'], // test hosts: a runtime over net only
  // The lab (processes on 127.0.0.1, its compose file, its REST routes): may use any runtime, but no
  // runtime imports it; the CLI hands its routes to the controller's API.
  lab: ['errors', 'net', 'model', 'flow', 'compiler', 'classifier', 'protocol', 'switch', 'controller', 'api', 'host'],
  // The topology page (bundled for the browser by src/cli/web-page.ts): cytoscape and its own files only.
  web: [],
  cli: null, // composes everything
};
const all = Object.keys(layers);
const pure = ['errors', 'net', 'model', 'flow', 'compiler', 'classifier', 'protocol'];
const ioModules = '^(node:)?(dgram|net|fs|fs/promises|child_process|http|https|tls|worker_threads|cluster|os|readline|timers|timers/promises)$';

const forbidden = [];
for (const [layer, allowed] of Object.entries(layers)) {
  if (allowed === null) continue;
  const banned = all.filter((l) => l !== layer && !allowed.includes(l));
  if (banned.length === 0) continue;
  forbidden.push({
    name: `${layer}-layering`,
    comment: `src/${layer} may import only: ${allowed.join(', ') || 'nothing of ours'}`,
    severity: 'error',
    from: { path: `^src/${layer}/` },
    // Type-only imports share a vocabulary, not code (the API names the compiler's trace packet type).
    to: { path: `^src/(${banned.join('|')})/`, dependencyTypesNot: ['type-only'] },
  });
}
forbidden.push({
  name: 'pure-core-no-io',
  comment: 'the pure core does no I/O: sockets, files, timers and processes are passed in',
  severity: 'error',
  from: { path: `^src/(${pure.join('|')})/` },
  to: { dependencyTypes: ['core'], path: ioModules },
});
forbidden.push({
  name: 'no-circular',
  severity: 'error',
  from: {},
  to: { circular: true },
});

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
