// ferry's driver for the vendored suite: the same client as cache-tests/test-engine/cli.mjs, but every test runs
// at once (cli.mjs runs 25 at a time, so its 3-second pauses add up to about a minute). Each test has its own URL.
// Usage: node run-all.mjs BASE_URL [ID,ID,...] → the results JSON on stdout, as cli.mjs prints it; with ids, only
// those tests run (bench/cache-conformance.ts retries a test once that way before calling it a regression).
import { runTests, getResults } from './cache-tests/test-engine/client/runner.mjs'
import tests from './cache-tests/tests/index.mjs'

const [base, ids] = process.argv.slice(2)
const only = ids ? new Set(ids.split(',')) : null
const selected = only === null ? tests : tests.map(suite => ({ ...suite, tests: suite.tests.filter(t => only.has(t.id)) }))
await runTests(selected, false, base, 1000)
console.log(JSON.stringify(getResults(), null, 2))
