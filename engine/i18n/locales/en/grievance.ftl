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
