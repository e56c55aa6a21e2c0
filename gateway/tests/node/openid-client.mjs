// Scenarios driven with openid-client 6 (the high-level library). One exported function per
// scenario; node_clients.rs names them as `openid-client:<name>`.

import * as client from 'openid-client'
import { ask, check, jwkThumbprint, jwtClaims, publicJwk, rejectsWith } from './harness.mjs'

/** Discovery with the library's own checks, signatures checked against the JWKS too. */
async function configure({ issuer, client_id, client_secret }, auth) {
  const config = await client.discovery(
    new URL(issuer),
    client_id,
    client_secret,
    auth ?? (client_secret ? client.ClientSecretPost(client_secret) : client.None()),
  )
  client.enableNonRepudiationChecks(config)
  return config
}

/**
 * One sign-in by authorization code + PKCE + nonce + state, the authorization request sent
 * in the URL, pushed first (PAR), as a signed request object (JAR), or both; with a DPoP
 * handle, the code is redeemed with a proof. The person signs in when asked. Returns the
 * tokens and the ID token's claims, both checked by the library.
 */
async function signIn(config, input, { par = false, jarKey, DPoP, scope, extra = {} } = {}) {
  const verifier = client.randomPKCECodeVerifier()
  const nonce = client.randomNonce()
  const state = client.randomState()
  const params = {
    redirect_uri: input.redirect_uri,
    scope: scope ?? 'openid email profile offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    prompt: 'consent',
    ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)),
  }
  let url
  if (jarKey) {
    url = await client.buildAuthorizationUrlWithJAR(config, params, jarKey)
    check(url.searchParams.has('request'), 'the request is a request object', url.href)
  }
  if (par) {
    url = await client.buildAuthorizationUrlWithPAR(config, url ? url.searchParams : params, { DPoP })
    check(url.searchParams.has('request_uri'), 'the request was pushed', url.href)
  }
  url ??= client.buildAuthorizationUrl(config, params)
  const { callback } = await ask('authorize', { url: url.href })
  const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
    expectedState: state,
    idTokenExpected: true,
  }, undefined, { DPoP })
  const id = tokens.claims()
  check(id?.nonce === nonce, 'the ID token carries the nonce', id)
  return { tokens, id }
}

/**
 * Authorization code + PKCE + nonce: the ID token validated by the library, userinfo,
 * refresh, introspection, revocation (after which the refresh token is refused).
 */
export async function code(input) {
  const config = await configure(input)
  const { tokens, id } = await signIn(config, input)
  check(typeof tokens.refresh_token === 'string', 'offline_access gives a refresh token', tokens)

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, id.sub)

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
  check(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token,
    'a refresh rotates the refresh token', refreshed)
  // The ID token of a refresh (if any) was validated by the library against the first one.
  const introspected = await client.tokenIntrospection(config, refreshed.access_token)
  check(introspected.active === true, 'the new access token is active', introspected)

  await client.tokenRevocation(config, refreshed.refresh_token)
  const after = await client.tokenIntrospection(config, refreshed.refresh_token)
  check(after.active === false, 'a revoked refresh token introspects inactive', after)
  await rejectsWith(client.refreshTokenGrant(config, refreshed.refresh_token), 'invalid_grant',
    'a revoked refresh token')

  return {
    id_token: id,
    userinfo,
    introspection: introspected,
    refresh_had_id_token: refreshed.id_token !== undefined,
    access_token: jwtClaims(refreshed.access_token),
    revoked_refresh_token: refreshed.refresh_token,
  }
}

/**
 * client_credentials for an API named with `resource` (RFC 8707); an API the client has no
 * grant for is refused with invalid_target.
 */
export async function client_credentials(input) {
  const config = await configure(input, client.ClientSecretBasic(input.client_secret))
  const tokens = await client.clientCredentialsGrant(config, {
    resource: input.resource,
    scope: input.scope,
  })
  check(tokens.refresh_token === undefined, 'no refresh token for a machine client', tokens)
  const introspected = await client.tokenIntrospection(config, tokens.access_token)
  check(introspected.active === true, 'the token is active', introspected)
  const refused = await rejectsWith(
    client.clientCredentialsGrant(config, { resource: input.forbidden_resource }),
    'invalid_target', 'an API the client may not call')
  return {
    token_type: tokens.token_type,
    scope: tokens.scope,
    access_token: jwtClaims(tokens.access_token),
    introspection: introspected,
    refused,
  }
}

/**
 * DPoP (RFC 9449) for a public client: the code redeemed, userinfo called and the token
 * refreshed with proofs by one ES256 key (the library answers DPoP-Nonce challenges); a
 * refresh by another key, or with no proof, is refused and leaves the token usable.
 */
export async function dpop(input) {
  const config = await configure(input)
  const keys = await client.randomDPoPKeyPair('ES256')
  const DPoP = client.getDPoPHandle(config, keys)
  const { tokens, id } = await signIn(config, input, { DPoP, par: input.par })
  check(tokens.token_type === 'dpop', 'a DPoP-bound access token', tokens)
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, id.sub, { DPoP })

  const other = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'))
  const wrongKey = await rejectsWith(
    client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: other }),
    input.wrong_key_error, 'a refresh with a proof by another key')
  const noProof = await rejectsWith(
    client.refreshTokenGrant(config, tokens.refresh_token),
    input.no_proof_error, 'a refresh of a DPoP-bound token without a proof')

  let refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP })
  check(refreshed.token_type === 'dpop', 'the refreshed access token is DPoP-bound', refreshed)
  const again = await client.fetchUserInfo(config, refreshed.access_token, id.sub, { DPoP })
  check(again.sub === id.sub, 'userinfo with the refreshed token', again)

  // A proof replayed (the same jti again) is refused, and the refresh token stays current.
  const jti = crypto.randomUUID()
  const replaying = client.getDPoPHandle(config, keys,
    { [client.modifyAssertion]: (_header, payload) => { payload.jti = jti } })
  refreshed = await client.refreshTokenGrant(config, refreshed.refresh_token, undefined,
    { DPoP: replaying })
  const replayed = await rejectsWith(
    client.refreshTokenGrant(config, refreshed.refresh_token, undefined, { DPoP: replaying }),
    'invalid_dpop_proof', 'a replayed DPoP proof')
  refreshed = await client.refreshTokenGrant(config, refreshed.refresh_token, undefined, { DPoP })
  return {
    jkt: await jwkThumbprint(keys.publicKey),
    token_type: refreshed.token_type,
    access_token: refreshed.access_token,
    access_token_claims: jwtClaims(refreshed.access_token),
    userinfo,
    wrong_key_error: wrongKey,
    no_proof_error: noProof,
    replayed_proof_error: replayed,
  }
}

/**
 * PAR (RFC 9126): the authorization request pushed first, for a client that must; then
 * the code flow as usual.
 */
export async function par(input) {
  const config = await configure(input)
  const { tokens, id } = await signIn(config, input, { par: true })
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, id.sub)
  return { id_token: id, userinfo }
}

/** A key pair the test registers for the client (`ask: register`); returns the client. */
async function registeredWithKey(input, alg) {
  const keys = await client.randomDPoPKeyPair(alg, { extractable: false })
  const kid = `node-${alg.toLowerCase()}`
  const jwk = await publicJwk(keys.publicKey, { kid, alg, use: 'sig' })
  const registered = await ask('register', { jwks: { keys: [jwk] } })
  return { ...input, ...registered, key: { key: keys.privateKey, kid } }
}

/**
 * JAR (RFC 9101): the authorization request as a request object signed by the client's
 * key (registered as its JWKS), then the code flow as usual.
 */
export async function jar(input) {
  const registered = await registeredWithKey(input, 'ES256')
  const config = await configure(registered)
  const { tokens, id } = await signIn(config, registered, { jarKey: registered.key, par: input.par })
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, id.sub)
  return { client_id: registered.client_id, id_token: id, userinfo }
}

/**
 * private_key_jwt (RFC 7523): a machine client whose JWKS the test registers signs its
 * client assertions; it gets a token for its API and introspects it.
 */
export async function private_key_jwt(input) {
  // An Ed25519 key: the library signs its assertions with `alg: "Ed25519"` (RFC 9864).
  const registered = await registeredWithKey(input, 'Ed25519')
  const config = await configure({ ...registered, client_secret: undefined },
    client.PrivateKeyJwt(registered.key))
  const tokens = await client.clientCredentialsGrant(config, { resource: input.resource })
  const introspected = await client.tokenIntrospection(config, tokens.access_token)
  check(introspected.active === true, 'the token is active', introspected)

  // Assertions the library was made to get wrong: addressed elsewhere, or replayed.
  const signing = (modify) => configure({ ...registered, client_secret: undefined },
    client.PrivateKeyJwt(registered.key, { [client.modifyAssertion]: modify }))
  const elsewhere = await signing((_header, payload) => { payload.aud = 'https://elsewhere.example/' })
  const misaddressed = await rejectsWith(
    client.clientCredentialsGrant(elsewhere, { resource: input.resource }),
    'invalid_client', 'an assertion addressed to another server')
  const jti = crypto.randomUUID()
  const replaying = await signing((_header, payload) => { payload.jti = jti })
  await client.clientCredentialsGrant(replaying, { resource: input.resource })
  const replayed = await rejectsWith(
    client.clientCredentialsGrant(replaying, { resource: input.resource }),
    'invalid_client', 'a replayed assertion')
  return {
    misaddressed_error: misaddressed,
    replayed_error: replayed,
    client_id: registered.client_id,
    access_token: jwtClaims(tokens.access_token),
    introspection: introspected,
  }
}

/**
 * The device authorization grant (RFC 8628): the device asks for codes, the person enters
 * the user code on the hosted page and allows it, the library polls until the tokens come.
 * The device proves a DPoP key as it polls (RFC 9449), so its tokens are bound to it; an
 * Ed25519 key, whose proofs the library signs with `alg: "Ed25519"` (RFC 9864).
 */
export async function device(input) {
  const config = await configure(input)
  const keys = await client.randomDPoPKeyPair('Ed25519')
  const DPoP = client.getDPoPHandle(config, keys)
  const d = await client.initiateDeviceAuthorization(config, { scope: 'openid offline_access' })
  await ask('device', { user_code: d.user_code, verification_uri: d.verification_uri,
    verification_uri_complete: d.verification_uri_complete })
  const tokens = await client.pollDeviceAuthorizationGrant(config, d, undefined, { DPoP })
  const id = tokens.claims()
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, id.sub, { DPoP })
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP })
  return {
    id_token: id,
    userinfo,
    scope: tokens.scope,
    token_type: refreshed.token_type,
    jkt: await jwkThumbprint(keys.publicKey),
    access_token_claims: jwtClaims(refreshed.access_token),
  }
}

/**
 * Token exchange (RFC 8693) as a generic grant: the user's access token exchanged for one
 * for another API, then again with the client's own token as the actor (delegation).
 */
export async function token_exchange(input) {
  const config = await configure(input)
  const { tokens } = await signIn(config, input,
    { scope: input.subject_scope, extra: { resource: input.subject_resource } })
  const exchanged = await client.genericGrantRequest(config,
    'urn:ietf:params:oauth:grant-type:token-exchange', {
      subject_token: tokens.access_token,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      resource: input.resource,
      ...(input.scope ? { scope: input.scope } : {}),
    })
  const refused = await rejectsWith(client.genericGrantRequest(config,
    'urn:ietf:params:oauth:grant-type:token-exchange', {
      subject_token: tokens.access_token,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      resource: input.forbidden_resource,
    }), input.forbidden_error, 'an exchange to an audience the policy forbids')
  // Delegation: the client's own token (client_credentials) as the actor.
  const own = await client.clientCredentialsGrant(config, { resource: input.actor_resource })
  const delegated = await client.genericGrantRequest(config,
    'urn:ietf:params:oauth:grant-type:token-exchange', {
      subject_token: tokens.access_token,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      actor_token: own.access_token,
      actor_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      resource: input.resource,
    })
  return {
    subject: jwtClaims(tokens.access_token),
    issued_token_type: exchanged.issued_token_type,
    token_type: exchanged.token_type,
    access_token: jwtClaims(exchanged.access_token),
    delegated: jwtClaims(delegated.access_token),
    refused,
  }
}

/**
 * Dynamic client registration (RFC 7591) with an initial access token, then the
 * registered client's own code flow.
 */
export async function registration(input) {
  const config = await client.dynamicClientRegistration(new URL(input.issuer), {
    client_name: 'Registered by openid-client',
    redirect_uris: [input.redirect_uri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // What the library then authenticates with, as no other method is given.
    token_endpoint_auth_method: 'client_secret_post',
  }, undefined, { initialAccessToken: input.initial_access_token })
  client.enableNonRepudiationChecks(config)
  const metadata = config.clientMetadata()
  const { tokens, id } = await signIn(config, input)
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, id.sub)
  return { client: metadata, id_token: id, userinfo }
}
