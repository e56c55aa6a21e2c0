# हर पेज, मेल और एसएमएस के साझा शब्द।

language-name = हिन्दी
language-dir = ltr
number-grouping = indian
number-separator = ,

language-switcher = भाषा
language-switch-button = भाषा बदलें
skip-to-content = फ़ॉर्म पर जाएँ
error-title = कुछ गड़बड़ हो गई
error-summary = एक समस्या है
continue-button = आगे बढ़ें
optional = (वैकल्पिक)

month-1 = जन॰
month-2 = फ़र॰
month-3 = मार्च
month-4 = अप्रैल
month-5 = मई
month-6 = जून
month-7 = जुल॰
month-8 = अग॰
month-9 = सित॰
month-10 = अक्तू॰
month-11 = नव॰
month-12 = दिस॰
date = { $day } { $month } { $year }
datetime = { $day } { $month } { $year }, { $time }
