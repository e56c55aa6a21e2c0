# Error pages, and the engine's refusals shown on pages. Names of protocol parameters
# (client_id, redirect_uri, id_token_hint...) are code: keep them as they are.

err-not-found = This sign-in address does not exist.
err-busy = We are very busy right now. Please try again in a moment.
err-internal = An unexpected error occurred. Please try again.
err-rate-limited = { $minutes ->
    [one] Too many failed sign-in attempts. Try again in about { $minutes } minute.
   *[other] Too many failed sign-in attempts. Try again in about { $minutes } minutes.
}
err-reauth = For your security, confirm it's you before changing how you sign in.
err-wrong-region = This organisation's data is kept in region { $region }, which this deployment does not serve.
err-invalid-credentials = Invalid credentials.
err-stale-link = This link expired. Go back to the application and try again.
err-app-gone = The application is no longer registered.
err-app-unknown = That app is not known.
err-logout-too-large = The logout request is too large.
err-malformed-request = The authorization request is malformed.
err-cannot-complete = The request cannot be completed.

# Authorization requests that cannot be answered at the application.
err-no-client-id = The request has no client_id.
err-bad-client-id = The client_id is not valid.
err-unknown-client = The application (client_id) is not known.
err-no-redirect-uri = The request has no redirect_uri.
err-redirect-mismatch = The redirect_uri does not match any registered for this application.
err-two-targets = client_id and redirect_uri may each appear once.

# Sign-out requests.
err-logout-hint = id_token_hint is not an ID token issued here
err-logout-client-mismatch = client_id does not match the id_token_hint
err-logout-client-id = client_id is not valid
err-logout-uri-alone = post_logout_redirect_uri needs id_token_hint or client_id
err-logout-uri-unknown = post_logout_redirect_uri is not registered for this client

# What the engine refuses, wherever a page shows it.
err-device-gone = This request expired or was already answered. Start again on your device.
err-last-method = This is your only way to sign in. Set a password or add a passkey before removing it.
err-federation-expired = This sign-in attempt expired or was already used. Go back to the application and start again.
err-already-address = That is already your sign-in address.
err-code-expired = This code has expired or was already used. Ask for a new one.
err-code-link-expired = This code or link has expired or was already used. Ask for a new one.
err-code-not-right = That code is not right. Check it and try again.
err-code-not-valid = That code is not valid. Check it and try again.
err-notice-changed = This notice has changed since you opened the page. Please read it again.
err-purpose-needed = This purpose is needed to use the service. To stop it, delete your account.
err-account-exists = An account with this email address exists already. Sign in instead.
err-step-expired = This sign-in step has expired or was used up. Start again from the sign-in page.
err-confirm-unavailable = That way of confirming is not available here.
err-no-enrollable-factor = A second factor is required, but this organisation allows none that can be enrolled here. Contact its support.
err-method-not-allowed = That way of signing in is not allowed here.
err-enrolment-done = This enrolment was already completed.
err-enrolment-expired = This enrolment has expired. Start again.
err-current-password = Your current password is not correct.
err-passkey-request-expired = This passkey request expired or was already used. Please try again.
err-passkey-unverified = That passkey could not be verified. Try again or use another way to sign in.
err-passkeys-off = This organisation does not use passkeys.
err-passkeys-unset = Passkeys are not set up on this server.
err-passkey-malformed = The passkey response is malformed.
err-passkey-not-registered = This passkey could not be registered. Please try again.
err-passkey-duplicate = This passkey is already registered.
err-no-passkey = There is no passkey on this account.
err-passkey-required = This organisation requires a passkey as a second step. Add one from a device that supports passkeys.
