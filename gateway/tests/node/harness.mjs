// The conversation with the Rust test (gateway/tests/node_clients.rs), in JSON lines.
//
// The test passes its inputs as JSON in TG_INPUT. A scenario that needs a person (a browser
// sign-in, a device approval) prints `{"ask": step, ...}` and waits for one JSON line on
// stdin with the answer. The last line is `{"result": ...}` (exit 0) or
// `{"error": ..., "detail": ...}` (exit 1): the Rust side asserts on what is reported.

import { createInterface } from 'node:readline'

export const input = JSON.parse(process.env.TG_INPUT ?? '{}')

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()

function emit(value) {
  process.stdout.write(JSON.stringify(value) + '\n')
}

/** Asks the test to act (`step` names what to do) and resolves with its answer. */
export async function ask(step, data) {
  emit({ ask: step, ...data })
  const next = await lines.next()
  if (next.done) throw new Error(`the test closed stdin instead of answering ${step}`)
  return JSON.parse(next.value)
}

/** Fails the scenario unless `cond` holds. */
export function check(cond, what, seen) {
  if (!cond) throw new Error(`${what}${seen === undefined ? '' : `: ${JSON.stringify(seen)}`}`)
}

/**
 * The OAuth error code a library's error carries: in a response body (ResponseBodyError),
 * or in a WWW-Authenticate challenge (WWWAuthenticateChallengeError, whose cause is the
 * list of challenges).
 */
export function oauthError(e) {
  if (Array.isArray(e?.cause)) return e.cause.find((c) => c?.parameters?.error)?.parameters.error
  return e?.error ?? e?.cause?.error
}

/**
 * Runs `promise`, which must be rejected by the library with the OAuth error `code` (a
 * ResponseBodyError or an error whose cause carries it); returns the code seen.
 */
export async function rejectsWith(promise, code, what) {
  try {
    await promise
  } catch (e) {
    let seen = oauthError(e)
    // A challenge without an error code (`Basic realm=...` on invalid_client): the code
    // is in the body, which the library left unread.
    if (seen === undefined && e?.response instanceof Response) {
      seen = await e.response.json().then((b) => b?.error, () => undefined)
    }
    check(seen === code, `${what}: expected the error ${code}, got ${seen} (${e?.message})`)
    return seen
  }
  throw new Error(`${what}: expected the error ${code}, but it succeeded`)
}

/** The claims of a JWT, unverified: only for reporting what a token says. */
export function jwtClaims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'))
}

export function jwtHeader(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString('utf8'))
}

/** Runs one scenario and reports its outcome on stdout; the exit code says which. */
export async function run(scenario) {
  try {
    const result = await scenario(input)
    emit({ result: result ?? null })
    process.exit(0)
  } catch (e) {
    emit({
      error: e?.message ?? String(e),
      code: e?.code,
      oauth_error: oauthError(e),
      detail: e?.cause && typeof e.cause === 'object' ? e.cause : undefined,
      stack: e?.stack,
    })
    process.exit(1)
  }
}

/** The public JWK of a key pair's public key, with `kid`, `alg` and `use` when given. */
export async function publicJwk(publicKey, extra = {}) {
  const { kty, crv, x, y, n, e } = await crypto.subtle.exportKey('jwk', publicKey)
  return Object.fromEntries(
    Object.entries({ kty, crv, x, y, n, e, ...extra }).filter(([, v]) => v !== undefined))
}

/** The RFC 7638 thumbprint of a public key: what `cnf.jkt` must say for DPoP. */
export async function jwkThumbprint(publicKey) {
  const { kty, crv, x, y, n, e } = await crypto.subtle.exportKey('jwk', publicKey)
  const members = kty === 'RSA' ? { e, kty, n } : kty === 'EC' ? { crv, kty, x, y } : { crv, kty, x }
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(members)))
  return Buffer.from(digest).toString('base64url')
}
