# Second factors: the step after the password, step-up, enrolling an authenticator
# app or a passkey, recovery codes, and the account page's two-step section.

mfa-title = Confirm it is you
mfa-intro = Your account is protected with a second step. Use one of these:
mfa-code-label-totp = The 6-digit code from your authenticator app
mfa-code-label-recovery_codes = One of your recovery codes
mfa-code-label-email = The 6-digit code we emailed you
mfa-code-label-phone = The 6-digit code we sent to your phone
mfa-send-email = Email me a code
mfa-send-phone = Text me a code
mfa-verify-button = Verify

mfa-totp-title = Set up an authenticator app
mfa-totp-scan = Scan this code with your authenticator app.
mfa-totp-qr-label = QR code to scan with your authenticator app
mfa-totp-key = Or enter this key by hand:
mfa-totp-name-label = Name it
mfa-totp-first-code = Then type the 6-digit code it shows
mfa-totp-button = Turn on

mfa-enrol-title = Add a second step
mfa-enrol-intro = This organisation requires a second step when you sign in. Add a passkey: your fingerprint, face or screen lock will confirm it is you.

mfa-recovery-title = Save your recovery codes
mfa-recovery-intro = Each code signs you in once if you lose your second factor. Keep them somewhere safe: they are not shown again.

mfa-account-title = Two-step verification
mfa-none-yet = No second factor yet.
mfa-add-app = Add an authenticator app
mfa-new-recovery-codes = New recovery codes
mfa-remove = Remove
# How many unused recovery codes remain.
mfa-codes-left = { $count } left

# The kinds of second factor, as the pages name them.
mfa-kind-totp = Authenticator app
mfa-kind-passkey = Passkey
mfa-kind-email = Code by email
mfa-kind-phone = Code by text message
mfa-kind-recovery_codes = Recovery code
mfa-kind-other = Second factor

mfa-too-many-attempts = Too many attempts, or this step expired. Start again from the sign-in page.
mfa-step-expired = This step expired. Start again from the sign-in page.
