# Signing in with another provider (Google, Apple, a company's own): the buttons, linking
# an existing account, failures, and the account page's list of sign-in methods.

fed-or = Or sign in with
fed-continue-with = Continue with { $provider }
fed-failed-title = Sign-in failed
fed-back = Back to sign-in
fed-failed = We could not sign you in with that provider. Please try again, or choose another way to sign in.
fed-unreachable = That sign-in provider cannot be reached right now. Please try again later, or choose another way to sign in.
fed-refused = Sign-in with that provider was cancelled or refused.
fed-too-long = This sign-in took too long. Go back to the application and try again.
fed-too-large = The answer from the provider is too large.
fed-step-expired = This step expired or was used up. Start again from the sign-in page.
fed-link-page-title = Link your account
fed-link-title = You already have an account
fed-link-intro = An account with the email address { $provider } gave us already exists here. To sign in with { $provider } from now on, confirm it is yours with its password or one of its passkeys.
fed-link-button = Link and sign in
fed-link-bad-password = That password is not correct.
fed-cancel = Cancel
fed-methods-title = Sign-in methods
# $linked and $used are dates.
fed-linked = linked { $linked }, last used { $used }
fed-unlink = Unlink { $provider }
fed-only-way = This is your only way to sign in, so it cannot be removed.
fed-not-linked = That sign-in method is not linked to your account.
