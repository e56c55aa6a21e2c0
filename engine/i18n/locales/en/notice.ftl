# Privacy notices and consent receipts (DPDP Rules 2025, Rules 3 and 4).

ntc-receipts-download = Download the receipts of your consents
ntc-receipts-hint = Every time you gave or withdrew consent: the notice version and language, when, and how.
