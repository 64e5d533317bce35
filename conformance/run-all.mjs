// ferry's driver for the vendored suite: the same client as cache-tests/test-engine/cli.mjs, but every test runs
// at once (cli.mjs runs 25 at a time, so its 3-second pauses add up to about a minute). Each test has its own URL.
// Usage: node run-all.mjs BASE_URL [CHUNK] → the results JSON on stdout, as cli.mjs prints it.
import { runTests, getResults } from './cache-tests/test-engine/client/runner.mjs'
import tests from './cache-tests/tests/index.mjs'

const [base, chunk = '1000'] = process.argv.slice(2)
await runTests(tests, false, base, Number(chunk))
console.log(JSON.stringify(getResults(), null, 2))
