// node run.mjs <library>:<scenario> — runs one scenario (see harness.mjs for the protocol).

import { run } from './harness.mjs'

const libraries = {
  'openid-client': () => import('./openid-client.mjs'),
  oauth4webapi: () => import('./oauth4webapi.mjs'),
}

const [library, name] = (process.argv[2] ?? '').split(':')
const load = libraries[library]
const scenario = load && (await load())[name]
if (typeof scenario !== 'function') {
  process.stdout.write(JSON.stringify({ error: `no scenario ${process.argv[2]}` }) + '\n')
  process.exit(2)
}
await run(scenario)
