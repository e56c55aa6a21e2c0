# Shared by every page, mail and SMS: the frame, the language switcher, dates, numbers.
# Translators: keep the message ids; change only the text after "=".

# Shown in the language switcher for this language (its name in itself).
language-name = English
# Writing direction of this language: ltr or rtl.
language-dir = ltr
# Digit grouping: "western" (1,234,567) or "indian" (12,34,567).
number-grouping = western
number-separator = ,

language-switcher = Language
language-switch-button = Change language
skip-to-content = Skip to the form
error-title = Something went wrong
error-summary = There is a problem
continue-button = Continue
optional = (optional)

month-1 = Jan
month-2 = Feb
month-3 = Mar
month-4 = Apr
month-5 = May
month-6 = Jun
month-7 = Jul
month-8 = Aug
month-9 = Sep
month-10 = Oct
month-11 = Nov
month-12 = Dec
# A day: { $day } { $month } { $year }.
date = { $day } { $month } { $year }
# A moment: the day and the time (24-hour, UTC).
datetime = { $day } { $month } { $year }, { $time }
