# Grievances and contact (DPDP Rules 9 and 14): the footer of every hosted page and the
# grievance form of the account page.
# Translators: keep the message ids; change only the text after "=".

# The footer: the tenant's Data Protection Officer, or its contact person.
grv-footer-dpo = Data Protection Officer: { $name }
grv-footer-contact = Questions about your personal data: { $name }
grv-footer-email = Email
grv-footer-phone = Phone
grv-footer-response = Grievances are answered within { $days ->
    [one] { $days } day
   *[other] { $days } days
}.
grv-footer-more = Privacy and grievances

# The mail when a grievance is answered ($tenant: the service's name).
grv-mail-subject = { $tenant } has answered your grievance
grv-mail-body = { $tenant } has answered your grievance. Sign in to read the answer:

# The grievances page (account page, signed in).
grv-title = Grievances
grv-intro = Ask a question or raise a complaint about your personal data. We answer within { $days ->
    [one] { $days } day
   *[other] { $days } days
}.
grv-category = About
grv-category-access = Access to my data
grv-category-correction = Correcting my data
grv-category-erasure = Erasing my data
grv-category-consent = My consent
grv-category-other = Something else
grv-text = Your grievance
grv-submit = Send
grv-yours = Your grievances
grv-none = You have not raised any grievance.
grv-filed = filed { $date }
grv-due = answer due by { $date }
grv-status-open = Open
grv-status-answered = Answered
grv-status-closed = Closed
grv-back = Back to your account
grv-all = All your grievances
grv-account-link = Raise a grievance about your personal data
grv-ticket-title = Your grievance
grv-ticket-id = Reference
grv-ticket-status = Status
grv-ticket-filed = Filed
grv-ticket-due = Answer due by
grv-by-user = You
grv-by-admin = Answer
grv-closed-note = Closed.
grv-error-category = Choose what the grievance is about.
grv-error-empty = Write your grievance.
grv-error-long = Your grievance is too long: at most 4,000 characters.
grv-error-control = Your grievance contains characters that cannot be kept.
grv-error-too-many = You have too many grievances waiting for an answer. Wait for an answer before raising another.
