// Scenarios driven with oauth4webapi 3 (the low-level library: every request and every
// response check is a call of its own). One exported function per scenario;
// node_clients.rs names them as `oauth4webapi:<name>`.

import * as oauth from 'oauth4webapi'
import { ask, check, jwkThumbprint, jwtClaims, publicJwk, rejectsWith } from './harness.mjs'

/** The authorization server's metadata, checked against the issuer by the library. */
async function discover(issuer) {
  const url = new URL(issuer)
  return oauth.processDiscoveryResponse(url, await oauth.discoveryRequest(url, { algorithm: 'oidc' }))
}

/** How many requests were sent again with a server's DPoP nonce. */
let nonceRetries = 0

/**
 * Sends a request and processes its response; once more if the server asked for a fresh
 * DPoP nonce (the DPoP handle has kept the one it gave).
 */
async function withNonce(send, process) {
  const once = async () => {
    const response = await send()
    return { response, result: await process(response) }
  }
  try {
    return await once()
  } catch (e) {
    if (!oauth.isDPoPNonceError(e)) throw e
    nonceRetries += 1
    return once()
  }
}

/**
 * One sign-in by authorization code + PKCE + nonce + state, the authorization request sent
 * plain, pushed (PAR) or as a signed request object (JAR); the person signs in when asked.
 * Returns the tokens, the ID token's claims (signature checked against the JWKS too).
 */
async function signIn(as, c, auth, input, { par = false, jarKey, DPoP, scope, extra = {} } = {}) {
  const verifier = oauth.generateRandomCodeVerifier()
  const nonce = oauth.generateRandomNonce()
  const state = oauth.generateRandomState()
  let params = {
    client_id: c.client_id,
    redirect_uri: input.redirect_uri,
    response_type: 'code',
    scope: scope ?? 'openid email profile offline_access',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    prompt: 'consent',
    ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)),
  }
  if (DPoP) params.dpop_jkt = await DPoP.calculateThumbprint()
  if (jarKey) {
    params = { client_id: c.client_id, request: await oauth.issueRequestObject(as, c, params, jarKey) }
  }
  if (par) {
    const { result } = await withNonce(
      () => oauth.pushedAuthorizationRequest(as, c, auth, params, { DPoP }),
      (r) => oauth.processPushedAuthorizationResponse(as, c, r))
    check(typeof result.request_uri === 'string', 'PAR answers a request_uri', result)
    params = { client_id: c.client_id, request_uri: result.request_uri }
  }
  const url = new URL(as.authorization_endpoint)
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v)

  const { callback } = await ask('authorize', { url: url.href })
  const callbackParams = oauth.validateAuthResponse(as, c, new URL(callback), state)
  const { response, result: tokens } = await withNonce(
    () => oauth.authorizationCodeGrantRequest(as, c, auth, callbackParams, input.redirect_uri,
      verifier, { DPoP }),
    (r) => oauth.processAuthorizationCodeResponse(as, c, r, { expectedNonce: nonce, requireIdToken: true }))
  await oauth.validateApplicationLevelSignature(as, response)
  const id = oauth.getValidatedIdTokenClaims(tokens)
  check(id?.nonce === nonce, 'the ID token carries the nonce', id)
  return { tokens, id }
}

async function userinfo(as, c, accessToken, sub, DPoP) {
  const { result } = await withNonce(
    () => oauth.userInfoRequest(as, c, accessToken, { DPoP }),
    (r) => oauth.processUserInfoResponse(as, c, sub, r))
  return result
}

async function refresh(as, c, auth, refreshToken, DPoP) {
  const { result } = await withNonce(
    () => oauth.refreshTokenGrantRequest(as, c, auth, refreshToken, { DPoP }),
    (r) => oauth.processRefreshTokenResponse(as, c, r))
  return result
}

/**
 * Authorization code + PKCE + nonce: the ID token validated by the library (its signature
 * too, against the JWKS), userinfo, refresh, introspection, revocation, and refresh-token
 * reuse revoking the chain.
 */
export async function code(input) {
  const as = await discover(input.issuer)
  const c = { client_id: input.client_id }
  const auth = oauth.ClientSecretBasic(input.client_secret)
  const { tokens, id } = await signIn(as, c, auth, input)
  const info = await userinfo(as, c, tokens.access_token, id.sub)

  const refreshed = await refresh(as, c, auth, tokens.refresh_token)
  check(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token,
    'a refresh rotates the refresh token', refreshed)
  const introspect = async (token) => oauth.processIntrospectionResponse(as, c,
    await oauth.introspectionRequest(as, c, auth, token))
  const introspected = await introspect(refreshed.access_token)
  check(introspected.active === true, 'the new access token is active', introspected)

  // Revoking the first access token denies it alone.
  await oauth.processRevocationResponse(
    await oauth.revocationRequest(as, c, auth, tokens.access_token))
  const revoked = await introspect(tokens.access_token)
  check(revoked.active === false, 'a revoked access token introspects inactive', revoked)
  check((await introspect(refreshed.access_token)).active === true,
    'revoking one access token leaves the others of its chain')

  // Presenting the first refresh token again is reuse: the whole chain is revoked.
  await rejectsWith(refresh(as, c, auth, tokens.refresh_token), 'invalid_grant',
    'a rotated-out refresh token')
  const afterReuse = await introspect(refreshed.access_token)
  check(afterReuse.active === false, 'reuse revokes the access tokens of the chain', afterReuse)

  return {
    id_token: id,
    userinfo: info,
    introspection: introspected,
    refresh_had_id_token: refreshed.id_token !== undefined,
    access_token: jwtClaims(tokens.access_token),
    reused_refresh_token: tokens.refresh_token,
    revoked_refresh_token: refreshed.refresh_token,
  }
}

/** Checks an access token as the API named `audience` would (RFC 9068, against the JWKS). */
async function asResourceServer(as, accessToken, audience) {
  return oauth.validateJwtAccessToken(as,
    new Request(audience, { headers: { authorization: `Bearer ${accessToken}` } }), audience)
}

/**
 * client_credentials for an API named with `resource` (RFC 8707); the access token then
 * checked as that API would, by the library's RFC 9068 validation against the JWKS.
 */
export async function client_credentials(input) {
  const as = await discover(input.issuer)
  const c = { client_id: input.client_id }
  const auth = oauth.ClientSecretPost(input.client_secret)
  const grant = (resource) => oauth.clientCredentialsGrantRequest(as, c, auth,
    { resource, ...(input.scope ? { scope: input.scope } : {}) })
  const tokens = await oauth.processClientCredentialsResponse(as, c, await grant(input.resource))
  check(tokens.refresh_token === undefined, 'no refresh token for a machine client', tokens)
  const claims = await asResourceServer(as, tokens.access_token, input.resource)
  const refused = await rejectsWith(
    oauth.processClientCredentialsResponse(as, c, await grant(input.forbidden_resource)),
    'invalid_target', 'an API the client may not call')
  return { token_type: tokens.token_type, scope: tokens.scope, access_token: claims, refused }
}

/**
 * DPoP (RFC 9449) for a public client, with an RS256 key: the authorization code bound to
 * the key (`dpop_jkt`), redeemed, userinfo called and the token refreshed with proofs by
 * that key, answering DPoP-Nonce challenges; a refresh by another key, or with no proof,
 * is refused and leaves the token usable.
 */
export async function dpop(input) {
  const as = await discover(input.issuer)
  const c = { client_id: input.client_id }
  const auth = oauth.None()
  const keys = await oauth.generateKeyPair('RS256')
  const DPoP = oauth.DPoP(c, keys)
  const { tokens, id } = await signIn(as, c, auth, input, { DPoP, par: input.par })
  check(tokens.token_type === 'dpop', 'a DPoP-bound access token', tokens)
  const info = await userinfo(as, c, tokens.access_token, id.sub, DPoP)

  const other = oauth.DPoP(c, await oauth.generateKeyPair('RS256'))
  const wrongKey = await rejectsWith(refresh(as, c, auth, tokens.refresh_token, other),
    input.wrong_key_error, 'a refresh with a proof by another key')
  const noProof = await rejectsWith(refresh(as, c, auth, tokens.refresh_token),
    input.no_proof_error, 'a refresh of a DPoP-bound token without a proof')

  const refreshed = await refresh(as, c, auth, tokens.refresh_token, DPoP)
  check(refreshed.token_type === 'dpop', 'the refreshed access token is DPoP-bound', refreshed)
  const again = await userinfo(as, c, refreshed.access_token, id.sub, DPoP)
  check(again.sub === id.sub, 'userinfo with the refreshed token', again)
  const jkt = await jwkThumbprint(keys.publicKey)
  check(jkt === await DPoP.calculateThumbprint(), 'the library and the test agree on the thumbprint')
  return {
    jkt,
    token_type: refreshed.token_type,
    access_token: refreshed.access_token,
    access_token_claims: jwtClaims(refreshed.access_token),
    userinfo: info,
    wrong_key_error: wrongKey,
    no_proof_error: noProof,
    nonce_retries: nonceRetries,
  }
}

/** PAR (RFC 9126): the authorization request pushed first, then the code flow as usual. */
export async function par(input) {
  const as = await discover(input.issuer)
  const c = { client_id: input.client_id }
  const auth = oauth.ClientSecretPost(input.client_secret)
  const { tokens, id } = await signIn(as, c, auth, input, { par: true })
  return { id_token: id, userinfo: await userinfo(as, c, tokens.access_token, id.sub) }
}

/** A key pair the test registers for the client (`ask: register`); returns the client. */
async function registeredWithKey(input, alg) {
  const keys = await oauth.generateKeyPair(alg)
  const kid = `node-${alg.toLowerCase()}`
  const jwk = await publicJwk(keys.publicKey, { kid, alg, use: 'sig' })
  const registered = await ask('register', { jwks: { keys: [jwk] } })
  return { ...input, ...registered, key: { key: keys.privateKey, kid } }
}

/**
 * JAR (RFC 9101): the authorization request as a request object signed by the client's
 * RS256 key (registered as its JWKS), then the code flow as usual.
 */
export async function jar(input) {
  const registered = await registeredWithKey(input, 'RS256')
  const as = await discover(input.issuer)
  const c = { client_id: registered.client_id }
  const auth = oauth.ClientSecretPost(registered.client_secret)
  const { tokens, id } = await signIn(as, c, auth, registered, { jarKey: registered.key, par: input.par })
  return {
    client_id: registered.client_id,
    id_token: id,
    userinfo: await userinfo(as, c, tokens.access_token, id.sub),
  }
}

/**
 * private_key_jwt (RFC 7523): a machine client whose RS256 JWKS the test registers signs
 * its client assertions; its token is checked as its API would.
 */
export async function private_key_jwt(input) {
  const registered = await registeredWithKey(input, 'RS256')
  const as = await discover(input.issuer)
  const c = { client_id: registered.client_id }
  const auth = oauth.PrivateKeyJwt(registered.key)
  const tokens = await oauth.processClientCredentialsResponse(as, c,
    await oauth.clientCredentialsGrantRequest(as, c, auth, { resource: input.resource }))
  const claims = await asResourceServer(as, tokens.access_token, input.resource)
  const introspected = await oauth.processIntrospectionResponse(as, c,
    await oauth.introspectionRequest(as, c, auth, tokens.access_token))
  check(introspected.active === true, 'the token is active', introspected)

  // Assertions the library was made to get wrong: addressed elsewhere, or replayed.
  const grant = async (modify) => oauth.processClientCredentialsResponse(as, c,
    await oauth.clientCredentialsGrantRequest(as, c,
      oauth.PrivateKeyJwt(registered.key, { [oauth.modifyAssertion]: modify }),
      { resource: input.resource }))
  const misaddressed = await rejectsWith(
    grant((_header, payload) => { payload.aud = 'https://elsewhere.example/' }),
    'invalid_client', 'an assertion addressed to another server')
  const jti = crypto.randomUUID()
  const sameJti = (_header, payload) => { payload.jti = jti }
  await grant(sameJti)
  const replayed = await rejectsWith(grant(sameJti), 'invalid_client', 'a replayed assertion')
  return {
    client_id: registered.client_id,
    access_token: claims,
    introspection: introspected,
    misaddressed_error: misaddressed,
    replayed_error: replayed,
  }
}

/**
 * The device authorization grant (RFC 8628): the device asks for codes and polls: pending
 * until the person has entered the user code and allowed it, then the tokens. Polls keep
 * to the interval the server gives (it answers slow_down otherwise).
 */
export async function device(input) {
  const as = await discover(input.issuer)
  const c = { client_id: input.client_id }
  const auth = input.client_secret ? oauth.ClientSecretPost(input.client_secret) : oauth.None()
  const d = await oauth.processDeviceAuthorizationResponse(as, c,
    await oauth.deviceAuthorizationRequest(as, c, auth, { scope: 'openid offline_access' }))
  const poll = async () => oauth.processDeviceCodeResponse(as, c,
    await oauth.deviceCodeGrantRequest(as, c, auth, d.device_code))
  const pending = await rejectsWith(poll(), 'authorization_pending', 'a poll before the person answers')
  await ask('device', { user_code: d.user_code, verification_uri: d.verification_uri,
    verification_uri_complete: d.verification_uri_complete })
  let interval = d.interval ?? 5
  const deadline = Date.now() + d.expires_in * 1000
  let tokens
  while (!tokens) {
    check(Date.now() < deadline, 'the device code expired while polling')
    await new Promise((resolve) => setTimeout(resolve, interval * 1000))
    try {
      tokens = await poll()
    } catch (e) {
      if (e?.error === 'slow_down') interval += 5
      else if (e?.error !== 'authorization_pending') throw e
    }
  }
  const id = oauth.getValidatedIdTokenClaims(tokens)
  check(id, 'the device got an ID token', tokens)
  const info = await userinfo(as, c, tokens.access_token, id.sub)
  return { id_token: id, userinfo: info, scope: tokens.scope, pending }
}

/**
 * Token exchange (RFC 8693) as a generic token endpoint request: the user's access token
 * exchanged for one for another API, checked as that API would check it; then again with
 * the client's own token as the actor (delegation).
 */
export async function token_exchange(input) {
  const as = await discover(input.issuer)
  const c = { client_id: input.client_id }
  const auth = oauth.ClientSecretPost(input.client_secret)
  const { tokens } = await signIn(as, c, auth, input,
    { scope: input.subject_scope, extra: { resource: input.subject_resource } })
  const exchange = async (resource, extra = {}) => oauth.processGenericTokenEndpointResponse(as, c,
    await oauth.genericTokenEndpointRequest(as, c, auth,
      'urn:ietf:params:oauth:grant-type:token-exchange', {
        subject_token: tokens.access_token,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        resource,
        ...extra,
      }))
  const exchanged = await exchange(input.resource, input.scope ? { scope: input.scope } : {})
  const claims = await asResourceServer(as, exchanged.access_token, input.resource)
  const refused = await rejectsWith(exchange(input.forbidden_resource), input.forbidden_error,
    'an exchange to an audience the policy forbids')
  // Delegation: the client's own token (client_credentials) as the actor.
  const own = await oauth.processClientCredentialsResponse(as, c,
    await oauth.clientCredentialsGrantRequest(as, c, auth, { resource: input.actor_resource }))
  const delegated = await exchange(input.resource, {
    actor_token: own.access_token,
    actor_token_type: 'urn:ietf:params:oauth:token-type:access_token',
  })
  return {
    subject: jwtClaims(tokens.access_token),
    issued_token_type: exchanged.issued_token_type,
    token_type: exchanged.token_type,
    access_token: claims,
    delegated: await asResourceServer(as, delegated.access_token, input.resource),
    refused,
  }
}

/**
 * Dynamic client registration (RFC 7591) with an initial access token, the registration
 * read back (RFC 7592), then the registered client's own code flow.
 */
export async function registration(input) {
  const as = await discover(input.issuer)
  const registered = await oauth.processDynamicClientRegistrationResponse(
    await oauth.dynamicClientRegistrationRequest(as, {
      client_name: 'Registered by oauth4webapi',
      redirect_uris: [input.redirect_uri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }, { initialAccessToken: input.initial_access_token }))
  check(registered.registration_client_uri && registered.registration_access_token,
    'RFC 7592 management is offered', registered)
  const read = await fetch(registered.registration_client_uri, {
    headers: { authorization: `Bearer ${registered.registration_access_token}` },
  })
  check(read.status === 200, `reading the registration answers 200, not ${read.status}`)
  const readBack = await read.json()
  check(readBack.client_id === registered.client_id, 'the registration reads back', readBack)

  const c = { client_id: registered.client_id }
  const auth = oauth.ClientSecretBasic(registered.client_secret)
  const { tokens, id } = await signIn(as, c, auth, input)
  return {
    client: registered,
    read_back: readBack,
    id_token: id,
    userinfo: await userinfo(as, c, tokens.access_token, id.sub),
  }
}
