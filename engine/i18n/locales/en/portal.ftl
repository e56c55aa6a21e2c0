# The account portal (profile, sign-in email, mobile number, password, language, privacy
# choices, deleting the account), "confirm it's you", the step after sign-in that asks for
# required agreements and profile fields, and the review after a password reset.

## Profile fields (their ids are the OIDC claim names).
portal-field-given_name = First name
portal-field-family_name = Last name
portal-field-nickname = Nickname
portal-field-locale = Language
portal-field-zoneinfo = Time zone (e.g. Asia/Kolkata)
portal-field-birthdate = Date of birth (YYYY-MM-DD)
portal-field-company = Company
portal-field-job_title = Job title
portal-field-other = Profile field

portal-profile-title = Profile
portal-profile-save = Save profile
portal-profile-edit-title = Edit your profile

portal-email-title = Sign-in email
# Followed by the address, shown in bold.
portal-email-current = Your sign-in address:
portal-new-email-label = New email address
portal-your-password-label = Your password
portal-email-change = Change email
portal-email-change-title = Change your sign-in email
portal-email-taken = This address cannot be used for your account. If it is yours and belongs to another account, sign in to that one.
portal-email-code-title = Check your new address
portal-email-code-sent = It becomes your sign-in address once you enter the code.
portal-email-code-intro = Enter the 6-digit code we sent to your new address.
portal-email-code-button = Use this address

# Followed by the masked number, shown in bold.
portal-phone-label = Mobile number:
portal-phone-change-link = Change number
portal-phone-title = Change your mobile number
portal-phone-intro = We will send a code to the new number; it replaces the old one once you enter it.
portal-phone-code-title = Check your phone
portal-phone-code-intro = Enter the 6-digit code we sent to your new number.
portal-phone-code-button = Use this number

portal-password-title = Password
portal-current-password-label = Current password
portal-new-password-label = New password
portal-password-change = Change password
portal-password-change-title = Change your password
portal-password-hint = Changing it signs you out everywhere else.
portal-password-changed-title = Password changed
portal-password-changed = Your password was changed. Every other session was signed out.
portal-back-to-account = Back to your account

portal-language-title = Language
portal-language-label = Show pages and messages in
portal-language-auto = The language of my browser
portal-language-hint = A language chosen with the switcher at the bottom of a page still applies to that browser.
portal-language-save = Save language
portal-language-unknown = Choose one of the languages in the list. Your language was not changed.

portal-purposes-title = Your privacy choices
portal-purpose-version = (version { $version })
portal-purpose-agreed = You agreed
portal-purpose-agreed-earlier = You agreed to an earlier version
portal-purpose-refused = You said no
portal-purpose-not-asked = Not asked yet
portal-purpose-needed = Needed to use the service
portal-purpose-withdraw = Withdraw
portal-purpose-agree = Agree
portal-purpose-bad-decision = Choose to agree or to withdraw.
portal-purpose-gone = That choice is no longer offered. Reload your account page.

portal-delete-title = Delete your account
portal-delete-hint = Signs you out everywhere and removes your data.
portal-delete-link = Delete my account
portal-delete-warning = This signs you out on every device, removes the apps' access and your second factors, and deletes your personal data. It cannot be undone.
portal-delete-confirm-word = Type { $word } to confirm
portal-delete-button = Delete my account
portal-delete-keep = Keep my account
portal-deleted-page-title = Account deleted
portal-deleted-title = Your account was deleted
portal-deleted = You were signed out everywhere, and the apps you used no longer have access. { $tenant } keeps no personal data of yours beyond what the law requires it to keep for a while.

portal-reauth-title = Confirm it's you
portal-reauth-intro = You signed in a while ago. Before you change how you sign in, confirm it's you.
portal-reauth-factor = Or use your second factor
portal-reauth-factor-only = Use your second factor
portal-reauth-sign-out = Or sign out and sign in again.
portal-reauth-wrong = That password is not right. Try again, or use another way.
portal-account-gone = This account no longer exists.

portal-review-title = Your password is changed
portal-review-intro = Your account can also be signed in to with:
portal-review-advice = If you did not add all of these yourself, remove them: you can add your own again from your account page.
portal-review-remove = Remove them all
portal-review-keep = Keep them

## The step after sign-in.
portal-complete-title = One more step
portal-complete-agree-title = Please agree to continue
portal-complete-more-title = Tell us a little more
portal-complete-skip = Not now
portal-complete-agree-all = Please agree to each item to continue.
portal-complete-field-needed = { $field } is needed to continue.

## The portal's refusals.
portal-err-field-value = { $field } is too long or holds characters that cannot be shown.
portal-err-unknown-field = Unknown profile field { $field }.
portal-err-birthdate = Enter the date of birth as YYYY-MM-DD.
portal-err-delete-password = Your password is not correct. Your account was not deleted.
portal-err-delete-word = Type { $word } to confirm. Your account was not deleted.
portal-err-password-short = The password must have at least 8 characters.
portal-err-password-long = The password must have at most 1024 bytes.
