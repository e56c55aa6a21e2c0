# The built-in demo application (development mode): a tiny app that signs in with
# Tollgate and shows what came back.

demo-not-enabled = The demo is not enabled.
# What the authorization server answered instead of a code: its error code and description.
demo-error = The sign-in did not complete: { $error } { $description }
demo-start-again = Start the demo again at /demo.
demo-state-mismatch = The state does not match: start the demo again at /demo.
demo-no-code = No code came back: start the demo again at /demo.
demo-signed-in-title = Signed in
demo-signed-in-intro = The demo app redeemed its code. ID token claims:
demo-scope = Scope: { $scope }.
demo-refresh = { $issued ->
    [yes] A refresh token was issued.
   *[no] A refresh token was not issued.
}
demo-sign-out = Sign out
demo-signed-out-title = You are signed out
demo-sign-in-again = Sign in again
