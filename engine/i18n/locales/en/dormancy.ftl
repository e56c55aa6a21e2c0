# The notice before a dormant account is erased (DPDP Rules 2025, Rule 8 and the Third
# Schedule): sent at least 48 hours before the erasure, by mail, else by text message.
# $tenant is the name the tenant shows; $last is the date of the last activity and
# $erase the earliest date of the erasure (YYYY-MM-DD, UTC).

dorm-subject = Your { $tenant } account will be deleted
dorm-body = You have not used your { $tenant } account since { $last }. Under { $tenant }'s data retention policy, the account and the personal data it holds will be deleted on or after { $erase }.
dorm-keep = To keep your account, sign in before then. Nothing else is needed.
dorm-ignore = If you no longer want the account, you need not do anything.
dorm-text = { $tenant }: your account is unused since { $last } and will be deleted on or after { $erase }. Sign in before then to keep it.
