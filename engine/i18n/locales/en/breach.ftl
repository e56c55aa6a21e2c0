# The notice to each user a personal data breach affects (DPDP Rules 2025, Rule 7(1)),
# by mail to a verified address, else by text message. The breach's own description
# comes from the administrator who declared it, in the words they gave; these are the
# frame around it. $tenant is the name the tenant shows; $start and $end the breach's
# window (YYYY-MM-DD HH:MM, UTC); $nature, $extent, $location, $consequences,
# $mitigation, $actions and $contact the administrator's texts.

breach-subject = { $tenant }: a personal data breach may affect your data
breach-intro = We are writing to tell you about a breach of personal data at { $tenant } that may affect your data. It took place between { $start } and { $end } (UTC).
breach-what = What happened
breach-extent = What data it concerns
breach-location = Where it happened
breach-consequences = What it may mean for you
breach-mitigation = What we have done and are doing
breach-actions = What you can do to protect yourself
breach-contact = Who to contact with questions
breach-text = { $tenant }: a personal data breach between { $start } and { $end } UTC may affect your data. What you can do: { $actions } Questions: { $contact }
