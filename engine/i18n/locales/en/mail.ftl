# Mails and text messages: one-time codes, links, and notices about the account.
# Plain text. The code and the link are put on lines of their own after the message
# that introduces them, so a translation never needs to place them.
# $tenant is the name the tenant shows (its theme's name, else its display name).

## Code mails: a subject, the line before the code, and (when the mail has a link) the
## line before the link.

mail-sign-in-subject = Your sign-in code for { $tenant }
mail-sign-in-intro = Your code to sign in to { $tenant } is
mail-sign-in-link = Or open this link to sign in:

mail-reset-subject = Reset your { $tenant } password
mail-reset-intro = Your code to reset your { $tenant } password is
mail-reset-link = Or open this link to choose a new password:

mail-verify-subject = Confirm your email address for { $tenant }
mail-verify-intro = Your code to confirm this address for { $tenant } is
mail-verify-link = Or open this link to confirm it:

mail-sign-up-subject = Your code to create your { $tenant } account
mail-sign-up-intro = Your code to create your { $tenant } account is

mail-change-email-subject = Confirm your new email address for { $tenant }
mail-change-email-intro = Your code to make this your { $tenant } sign-in address is

mail-factor-subject = Your { $tenant } verification code
mail-factor-intro = Your { $tenant } verification code is

# The last paragraph of every code mail.
mail-code-expiry = It expires in { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    } and works once. If you did not ask for this, ignore this email: nothing changes without the code.

## Sign-up with an address that already has an account (sent instead of a code).

mail-existing-subject = Someone tried to create a { $tenant } account with your address
mail-existing-body = Someone tried to create a { $tenant } account with this email address, which already has one.
mail-existing-if-you = If it was you, sign in instead (or reset your password from the sign-in page if you forgot it).
mail-existing-if-not = If it was not you, you can ignore this email: nothing was changed.

## To the old address, when the sign-in address changed. $address is the new one, masked.

mail-email-changed-subject = Your { $tenant } sign-in address was changed
mail-email-changed-body = The email address you sign in to { $tenant } with was changed to { $address }.
mail-email-changed-advice = If you did not do this, reset your password from the sign-in page or contact support at once.

## A sign-in method was added or removed. $method is one of the mail-method-… texts.

mail-factor-added-subject = A sign-in method was added to your account at { $tenant }
mail-factor-added-body = A sign-in method ({ $method }) was added to your { $tenant } account.
mail-factor-removed-subject = A sign-in method was removed from your account at { $tenant }
mail-factor-removed-body = A sign-in method ({ $method }) was removed from your { $tenant } account.
mail-factor-advice = If this was you, there is nothing to do. If it was not, reset your password from the sign-in page at once: you can then remove every sign-in method you do not recognise.
mail-method-totp = an authenticator app
mail-method-passkey = a passkey
mail-method-phone = a phone number for codes
mail-method-recovery-codes = a set of recovery codes
mail-method-email = codes by email

## A code by SMS or WhatsApp: the whole message, kept short (one SMS part in English).

sms-code = { $code } is your { $tenant } verification code. It expires in { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }. Do not share it.
