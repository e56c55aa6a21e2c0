# Sign-in, sign-up, consent, sign-out and the account page.

sign-in-title = Sign in to { $tenant }
email-label = Email
password-label = Password
name-label = Name
sign-in-button = Sign in
sign-in-email-code = Email me a code instead
sign-in-sso = Sign in with my organisation (SSO)
sso-no-organization = No organisation signs in people at this email address's domain. Sign in with your password or another way.
forgot-password = Forgot password?
sign-in-phone-code = Sign in with a code by text message
sign-in-passkey = Sign in with a passkey
sign-in-failed = Incorrect email or password.
form-expired = This form expired. Please try again.
sign-up-prompt = New here?
sign-up-link = Create an account
sign-up-title = Create your { $tenant } account
password-hint = At least 8 characters.
sign-up-code-hint = We will email you a code to confirm the address.
sign-up-button = Continue
sign-in-prompt = Already have an account?
sign-in-link = Sign in

scope-openid = Know who you are (your account id)
scope-profile = See your name
scope-email = See your email address
scope-offline_access = Stay signed in and act for you while you are away
scope-phone = See your verified phone number
scope-verified_claims = See how your identity was verified (method, date, and your name if it matched)
scope-verify = Send documents to verify your identity
scope-other = Other access
scope-at-api = { $scope } at { $api }
consent-title = { $client } wants access to your account
consent-intro = It will be able to:
consent-allow = Allow
consent-deny = Deny

sign-out-title = Sign out?
sign-out-question = Do you want to sign out of { $tenant }?
sign-out-button = Sign out
signed-out-title = You are signed out
close-window = You can close this window.

account-title = Your account
account-signed-in-as = Signed in as
account-data-title = Your data
account-download = Download my data
account-download-hint = (JSON: profile, sessions, apps, consents, second factors, activity)
apps-title = Apps with access
app-signed-in-times = signed in { $count }×
app-remove = Remove access
sessions-title = Where you are signed in
session-signed-in = Signed in { $when } UTC
session-this-browser = this browser
session-sign-out = Sign out
sessions-sign-out-others = Sign out all other sessions
consent-page-title = Allow access
# The title of the hidden frames that sign the user out of each app.
signed-out-frame = Signing you out of an app
