/**
 * The layers of `src/`, from the ground up (docs/architecture.md draws them). A module may import its own
 * folder and the layers below its own, never one above; the folders of one layer know nothing of each other
 * (what a feature needs from above is passed in by the pipeline). `npm run lint` runs this; a new folder
 * goes into a layer here, or the `unplaced` rule fails.
 */
const LAYERS = [
  { name: 'core', folders: ['core'] }, // request description, transport types, clock, abort, validation
  { name: 'errors', folders: ['errors'] }, // our error classes, the error kinds, SDK error copies
  { name: 'classify', folders: ['classify'] }, // what an error is and what to do about it
  { name: 'tokens', folders: ['tokens'] }, // counting a request's tokens (estimated, or by a tokenizer)
  { name: 'observation', folders: ['responses', 'events', 'stats'] }, // response bodies, events and logging, counters
  { name: 'shared', folders: ['shared'] }, // the shared-state backend and the link to it
  { name: 'policy kit', files: ['policies/[^/]+\\.ts'] }, // what the policies share (verdict, rolling counter)
  { name: 'features', folders: ['policies/[^/]+', 'streams', 'cache', 'fallback', 'pool', 'tiers', 'budgets'] }, // each policy, stream guard, cache, fallback, pool routing, service tiers, budgets
  { name: 'pipeline', folders: ['pipeline'] }, // composes the features into one call
  { name: 'client', folders: ['client'] }, // resilient(), its options and resolution, installs the pipeline
  { name: 'adapters', folders: ['redis', 'otel', 'tokenizer', 'prices', 'testing', 'cli'], files: ['index\\.ts'] }, // entry points
];

/** Where a layer's modules are, as one regular expression; `capture` makes the folder group 1. */
const pathOf = (layer, capture = false) => {
  const folders = (layer.folders ?? []).map((folder) => `${folder}/`);
  const files = (layer.files ?? []).map((file) => `${file}$`);
  return `^src/${capture ? '(' : '(?:'}${[...folders, ...files].join('|')})`;
};

const upward = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `layer-${layer.name.replace(/ /g, '-')}`,
  comment: `${layer.name} may import only ${LAYERS.slice(0, index).map((below) => below.name).join(', ') || 'itself'}: never a layer above it.`,
  severity: 'error',
  from: { path: pathOf(layer) },
  to: { path: LAYERS.slice(index + 1).map((above) => pathOf(above)) },
}));

const sideways = LAYERS.filter((layer) => (layer.folders ?? []).length > 1 && layer.name !== 'adapters').map((layer) => ({
  name: `apart-${layer.name.replace(/ /g, '-')}`,
  comment: `The ${layer.name} (${layer.folders.map((folder) => folder.replace('[^/]+', '*')).join(', ')}) know nothing of each other: pass in what one needs of another, or move it down.`,
  severity: 'error',
  from: { path: pathOf(layer, true) },
  to: { path: pathOf(layer), pathNot: '^src/$1' },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles, between files or folders: the layers run one way.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...upward,
    ...sideways,
    {
      name: 'apart-adapters',
      comment: 'Adapters build on the library, not on each other; only the demo CLI runs on the testing fault server.',
      severity: 'error',
      from: { path: '^src/(redis|otel|tokenizer|prices|testing|cli)/' },
      to: { path: '^src/(?:redis|otel|tokenizer|prices|testing|cli)/', pathNot: ['^src/$1/', '^src/testing/'] },
    },
    {
      name: 'apart-adapters-testing',
      comment: 'Only the demo CLI may use the testing fault server.',
      severity: 'error',
      from: { path: '^src/(?:redis|otel|tokenizer|prices)/' },
      to: { path: '^src/testing/' },
    },
    {
      name: 'unplaced',
      comment: 'Every module of src/ belongs to a layer: add a new folder to LAYERS in .dependency-cruiser.cjs.',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.map((layer) => pathOf(layer)) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a type that lives in the wrong layer couples the layers all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
