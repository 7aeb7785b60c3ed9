// `npm run demo`: runs the shipped CLI from the build, as `openai-resilient demo` (or `npx openai-resilient
// demo`) would. Extra arguments pass through: `npm run demo -- --seconds 5`, `npm run demo -- --json`.
// Offline, against a loopback fault server; needs no API key. Source: src/cli/.
process.argv.splice(2, 0, 'demo');
await import('../dist/cli/index.js');
