// Scenarios driven with openid-client 6 (the high-level library). One exported function per
// scenario; node_clients.rs names them as `openid-client:<name>`.

import * as client from 'openid-client'
import { ask, check, jwtClaims, rejectsWith } from './harness.mjs'

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
 * Authorization code + PKCE + nonce: the ID token validated by the library, userinfo,
 * refresh, introspection, revocation (after which the refresh token is refused).
 */
export async function code(input) {
  const config = await configure(input)
  const verifier = client.randomPKCECodeVerifier()
  const nonce = client.randomNonce()
  const state = client.randomState()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: input.redirect_uri,
    scope: 'openid email profile offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    prompt: 'consent',
  })
  const { callback } = await ask('authorize', { url: url.href })
  const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
    expectedState: state,
    idTokenExpected: true,
  })
  const id = tokens.claims()
  check(id?.nonce === nonce, 'the ID token carries the nonce', id)
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
