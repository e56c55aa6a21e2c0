# Children's accounts (DPDP Act s. 9, Rule 10): the sign-up page's age fields, the page of
# a child's account waiting for a parent, the parent's page and mail.
# Translators: keep the message ids; change only the text after "=".

# The sign-up page, where the service asks the date of birth.
child-birthdate-label = Date of birth
child-birthdate-hint = As YYYY-MM-DD, for example 2001-04-30.
child-parent-email-label = A parent's email address
child-parent-email-when = (if you are under { $age })
child-parent-email-hint = We will ask your parent to agree before you can use your account.

# A child's account waiting for a parent.
child-pending-title = Waiting for your parent
child-pending-body = Your account is created, but a parent has to agree before you can use it. We have emailed your parent a link.
child-pending-next = You can sign in as soon as your parent has agreed. If they refuse, or do not answer in time, the account and everything in it is deleted.

# The parent's page ($tenant: the service's name; $child: the name the child gave).
child-parent-title = A child's account at { $tenant }
child-parent-intro-named = { $child } wants to create an account at { $tenant } and named you as their parent. The account stays closed until you agree.
child-parent-intro = A child wants to create an account at { $tenant } and named you as their parent. The account stays closed until you agree.
child-parent-purposes = What the account's data will be used for
child-parent-no-purposes = Only to run the account.
child-parent-no-tracking = A child's account is never tracked, profiled or shown targeted advertising.
child-parent-consent-heading = Agree as the parent
child-parent-consent-hint = Sign in with your own adult account of this service: it must show that you are an adult.
child-parent-consent-button = I am the parent and I agree
child-parent-refuse-heading = Refuse
child-parent-refuse-hint = The child's account and everything in it will be deleted.
child-parent-refuse-button = Refuse and delete the account
child-given-title = Thank you
child-given-body = You have agreed. Your child can now sign in to { $tenant }.
child-refused-title = The account was deleted
child-refused-body = You refused. The child's account at { $tenant } and everything in it has been deleted.

# The parent's mail.
child-mail-subject = Your child wants an account at { $tenant }
child-mail-body = { $child } wants to create an account at { $tenant } and named you as their parent. Read what the account's data will be used for, and agree or refuse, here:
child-mail-expiry = The link works once, for { $days ->
    [one] { $days } day
   *[other] { $days } days
}. If nobody agrees in that time, the account is deleted.

# What the service says when it refuses (the engine's own words in English).
child-err-pending = This account waits for a parent's consent. We have emailed your parent a link.
child-err-under-age = Sorry, you must be an adult to create an account here.
child-err-birthdate-needed = Enter your date of birth.
child-err-parent-needed = You are under 18: enter a parent's email address, so that they can consent.
child-err-parent-is-child = Your parent's email address cannot be your own.
child-err-bad-link = This consent link is not valid, was already used, or has expired.
child-err-parent-not-adult = Only an adult account with a date of birth on record can consent for a child.
child-err-parent-is-self = A child cannot consent for their own account.
child-err-purpose-barred = This purpose is not available to a child's account.
child-err-birthdate-invalid = The date of birth is not a valid date (YYYY-MM-DD).
child-err-birthdate-future = The date of birth cannot be in the future.
child-err-birthdate-old = The date of birth cannot be more than 130 years ago.
