# Code and link pages: signing in by an emailed code or link, by a code sent to a
# phone (SMS or WhatsApp), resetting a password, proving an email address, adding a
# mobile number.

otp-code-label = Code
otp-new-password-label = New password
otp-send-code-button = Send me a code
otp-verify-button = Verify
otp-confirm-button = Confirm
otp-create-account-button = Create account

otp-check-email-title = Check your email
otp-check-phone-title = Check your phone
# { $recipient } is the address or number as the person typed it.
otp-sent-if-exists = If an account exists for { $recipient }, we sent it a 6-digit code. Enter the code here.
otp-sent-if-exists-link = If an account exists for { $recipient }, we sent it a 6-digit code and a link. Enter the code here.
# { $recipient } is partly hidden, e.g. a•••@example.com.
otp-sent-to = We sent a 6-digit code to { $recipient }. Enter it here.
otp-enter-emailed-code = Enter the 6-digit code we emailed you.
otp-enter-phone-code = Enter the 6-digit code we sent to your phone.
otp-new-code-sent = We sent a new 6-digit code to your email address. Enter it here.
otp-too-many = Too many codes were asked for. Try again in about { $minutes ->
    [one] { $minutes } minute
   *[other] { $minutes } minutes
}.

otp-link-sign-in-intro = Continue to sign in with the link we emailed you.

otp-forgot-title = Reset your password
otp-forgot-intro = Enter your account's email address. We will send it a code and a link to choose a new password.
otp-reset-title = Choose a new password
otp-reset-code-intro = Enter the 6-digit code we emailed you and your new password.
otp-reset-link-intro = Choose the new password for your account.
otp-reset-button = Set password and sign in

otp-verify-link-title = Confirm your email address
otp-verify-link-intro = Press the button to confirm that this email address is yours.
otp-verified-title = Email address confirmed
otp-verified-message = Thank you: your email address is confirmed.
otp-go-to-account = Go to your account
otp-verify-email-title = Verify your email address

otp-phone-sign-in-title = Sign in with your phone
otp-phone-sign-in-intro = We will send a code to the mobile number on your account.
otp-phone-add-title = Add a mobile number
otp-phone-add-intro = We will send it a code to check that it is yours.
otp-phone-add-button = Add this number
otp-phone-label = Mobile number
otp-phone-placeholder = +91 98765 43210
otp-phone-hint = With the country code, starting with +.
otp-channel-legend = Send the code by
otp-channel-sms = Text message (SMS)
otp-channel-whatsapp = WhatsApp

# The account page's section on the email address and mobile number.
otp-contact-title = Contact details
otp-email-status = Email address:
otp-email-verified = verified
otp-email-not-verified = not verified
otp-email-enter-code = Enter the code we emailed you.
otp-email-new-code = Email me a new code
otp-add-phone = Add a mobile number

otp-dead-link = This link has expired or was already used. Ask for a new one from the sign-in page.
otp-keep-or-remove = Choose to keep or remove them.
