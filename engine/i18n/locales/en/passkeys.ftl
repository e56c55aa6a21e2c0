# Passkeys: the blocks on the sign-in, second-factor and link pages, the offer after
# sign-up, and the account page's passkey section. The error texts are shown by the
# page's script (/assets/passkeys.js).

passkey-add-button = Add a passkey
passkey-name-label = Name it
passkey-name-placeholder = This device
passkey-use-button = Use a passkey
passkey-factor-intro = Use the passkey on this device or a security key.
passkey-link-intro = Or confirm it with a passkey of that account.

passkey-offer-title = Sign in faster next time
passkey-offer-intro = A passkey lets you sign in with your fingerprint, face or screen lock instead of a password. It stays on your device and cannot be phished.
passkey-offer-skip = Not now

passkey-account-title = Passkeys
passkey-none-yet = No passkey yet.
passkey-new-name = New name
passkey-rename = Rename
passkey-remove = Remove

passkey-error-cancelled = The passkey request was cancelled or timed out.
passkey-error-exists = This device already has a passkey for your account.
passkey-error-expired = This page expired. Reload it and try again.
passkey-error-signed-out = You are not signed in. Sign in and try again.
passkey-error-failed = Something went wrong. Please try again.
