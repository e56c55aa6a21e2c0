# Organisations (issue 19): the invitation mail and page, and the organisation picker.
# Translators: keep the message ids; change only the text after "=".

# The invitation mail ($tenant: the service's name; $org: the organisation's name).
org-mail-subject = You are invited to join { $org } at { $tenant }
org-mail-body = You have been invited to join { $org } at { $tenant }. Sign in or create an account with this email address, then accept:
org-mail-expiry = { $days ->
    [one] The invitation works for one day, once.
   *[other] The invitation works for { $days } days, once.
}

# The invitation page.
org-inv-title = Join { $org }
org-inv-intro = You have been invited to join { $org } at { $tenant }.
org-inv-sign-in = Sign in or create an account with the invited email address to accept.
org-inv-continue = Continue
org-inv-accept = Accept and join
org-inv-joined-title = Welcome to { $org }
org-inv-joined = You are now a member of { $org }.
org-inv-unknown = This invitation is not valid: it was already used, withdrawn or mistyped.
org-inv-expired = This invitation has expired. Ask for a new one.
org-inv-other-address = This invitation was sent to another email address. Sign in with the invited address.
org-inv-domain = Your email address is not one this organisation accepts.
org-inv-problem-title = Invitation

# The organisation picker, after sign-in.
org-pick-title = Choose an organisation
org-pick-intro = You belong to several organisations. Which one do you want to use with { $client }?
org-pick-label = Organisation
org-pick-submit = Continue
org-pick-invalid = Choose one of the organisations listed.
