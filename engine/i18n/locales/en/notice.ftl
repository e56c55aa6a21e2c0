# Privacy notices and consent receipts (DPDP Rules 2025, Rules 3 and 4).

ntc-receipts-download = Download the receipts of your consents
ntc-receipts-hint = Every time you gave or withdrew consent: the notice version and language, when, and how.
ntc-title = Privacy notice
ntc-version = (notice version { $version })
ntc-purpose = What for:
ntc-service = What it lets us provide:
ntc-data = The personal data used:
ntc-withdraw = You can withdraw this consent at any time, as easily as you give it:
ntc-withdraw-link = your privacy choices
ntc-rights = You can see, correct, download or erase your data:
ntc-rights-link = your account
ntc-board = If we do not resolve a complaint, you can complain to the Data Protection Board of India:
ntc-board-link = the Data Protection Board
