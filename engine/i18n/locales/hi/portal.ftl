# खाता पोर्टल (प्रोफ़ाइल, साइन-इन ईमेल, मोबाइल नंबर, पासवर्ड, भाषा, निजता के विकल्प, खाता
# हटाना), "पुष्टि करें कि यह आप हैं", साइन-इन के बाद का कदम और पासवर्ड रीसेट के बाद की समीक्षा।

## प्रोफ़ाइल फ़ील्ड।
portal-field-given_name = पहला नाम
portal-field-family_name = कुलनाम
portal-field-nickname = पुकारने का नाम
portal-field-locale = भाषा
portal-field-zoneinfo = समय क्षेत्र (जैसे Asia/Kolkata)
portal-field-birthdate = जन्म तिथि (YYYY-MM-DD)
portal-field-company = कंपनी
portal-field-job_title = पद
portal-field-other = प्रोफ़ाइल फ़ील्ड

portal-profile-title = प्रोफ़ाइल
portal-profile-save = प्रोफ़ाइल सहेजें
portal-profile-edit-title = अपनी प्रोफ़ाइल बदलें

portal-email-title = साइन-इन ईमेल
portal-email-current = आपका साइन-इन पता:
portal-new-email-label = नया ईमेल पता
portal-your-password-label = आपका पासवर्ड
portal-email-change = ईमेल बदलें
portal-email-change-title = अपना साइन-इन ईमेल बदलें
portal-email-taken = यह पता आपके खाते के लिए इस्तेमाल नहीं किया जा सकता। अगर यह आपका है और किसी दूसरे खाते से जुड़ा है, तो उस खाते में साइन इन करें।
portal-email-code-title = अपना नया पता देखें
portal-email-code-sent = कोड डालते ही यह आपका साइन-इन पता बन जाएगा।
portal-email-code-intro = हमने आपके नए पते पर जो 6 अंकों का कोड भेजा है, उसे डालें।
portal-email-code-button = यह पता इस्तेमाल करें

portal-phone-label = मोबाइल नंबर:
portal-phone-change-link = नंबर बदलें
portal-phone-title = अपना मोबाइल नंबर बदलें
portal-phone-intro = हम नए नंबर पर एक कोड भेजेंगे; कोड डालते ही यह पुराने नंबर की जगह ले लेगा।
portal-phone-code-title = अपना फ़ोन देखें
portal-phone-code-intro = हमने आपके नए नंबर पर जो 6 अंकों का कोड भेजा है, उसे डालें।
portal-phone-code-button = यह नंबर इस्तेमाल करें

portal-password-title = पासवर्ड
portal-current-password-label = मौजूदा पासवर्ड
portal-new-password-label = नया पासवर्ड
portal-password-change = पासवर्ड बदलें
portal-password-change-title = अपना पासवर्ड बदलें
portal-password-hint = इसे बदलने पर आप बाकी हर जगह से साइन आउट हो जाएँगे।
portal-password-changed-title = पासवर्ड बदल गया
portal-password-changed = आपका पासवर्ड बदल दिया गया। बाकी सभी सेशन साइन आउट कर दिए गए।
portal-back-to-account = अपने खाते पर वापस जाएँ

portal-language-title = भाषा
portal-language-label = पेज और संदेश इस भाषा में दिखाएँ
portal-language-auto = मेरे ब्राउज़र की भाषा
portal-language-hint = पेज के नीचे दिए भाषा-चयन से चुनी गई भाषा उस ब्राउज़र पर लागू रहती है।
portal-language-save = भाषा सहेजें
portal-language-unknown = सूची में से कोई एक भाषा चुनें। आपकी भाषा नहीं बदली गई।

portal-purposes-title = आपकी निजता के विकल्प
portal-purpose-version = (संस्करण { $version })
portal-purpose-agreed = आपने सहमति दी
portal-purpose-agreed-earlier = आपने पिछले संस्करण पर सहमति दी थी
portal-purpose-refused = आपने मना किया
portal-purpose-not-asked = अभी पूछा नहीं गया
portal-purpose-needed = सेवा इस्तेमाल करने के लिए ज़रूरी
portal-purpose-withdraw = सहमति वापस लें
portal-purpose-agree = सहमत हूँ
portal-purpose-bad-decision = सहमति दें या वापस लें, इनमें से एक चुनें।
portal-purpose-gone = यह विकल्प अब उपलब्ध नहीं है। अपना खाता पेज फिर से लोड करें।

portal-delete-title = अपना खाता हटाएँ
portal-delete-hint = आप हर जगह से साइन आउट हो जाएँगे और आपका डेटा हटा दिया जाएगा।
portal-delete-link = मेरा खाता हटाएँ
portal-delete-warning = इससे आप हर डिवाइस पर साइन आउट हो जाएँगे, ऐप की पहुँच और आपके दूसरे फ़ैक्टर हट जाएँगे, और आपका निजी डेटा मिटा दिया जाएगा। इसे वापस नहीं किया जा सकता।
portal-delete-confirm-word = पुष्टि के लिए { $word } लिखें
portal-delete-button = मेरा खाता हटाएँ
portal-delete-keep = मेरा खाता रखें
portal-deleted-page-title = खाता हटा दिया गया
portal-deleted-title = आपका खाता हटा दिया गया
portal-deleted = आप हर जगह से साइन आउट हो गए हैं, और जिन ऐप का आप इस्तेमाल करते थे उनकी पहुँच अब नहीं है। { $tenant } आपका कोई निजी डेटा नहीं रखता, सिवाय उसके जिसे क़ानून के तहत कुछ समय तक रखना ज़रूरी है।

portal-reauth-title = पुष्टि करें कि यह आप ही हैं
portal-reauth-intro = आपने कुछ समय पहले साइन इन किया था। साइन इन का तरीका बदलने से पहले पुष्टि करें कि यह आप ही हैं।
portal-reauth-factor = या अपना दूसरा फ़ैक्टर इस्तेमाल करें
portal-reauth-factor-only = अपना दूसरा फ़ैक्टर इस्तेमाल करें
portal-reauth-sign-out = या साइन आउट करके फिर से साइन इन करें।
portal-reauth-wrong = यह पासवर्ड सही नहीं है। फिर से कोशिश करें, या कोई दूसरा तरीका अपनाएँ।
portal-account-gone = यह खाता अब मौजूद नहीं है।

portal-review-title = आपका पासवर्ड बदल गया है
portal-review-intro = आपके खाते में इनसे भी साइन इन किया जा सकता है:
portal-review-advice = अगर इनमें से सब आपने ख़ुद नहीं जोड़े हैं, तो इन्हें हटा दें: आप अपने खाता पेज से अपने तरीके फिर से जोड़ सकते हैं।
portal-review-remove = सभी हटाएँ
portal-review-keep = इन्हें रहने दें

## साइन-इन के बाद का कदम।
portal-complete-title = बस एक कदम और
portal-complete-agree-title = आगे बढ़ने के लिए कृपया सहमति दें
portal-complete-more-title = हमें अपने बारे में थोड़ा और बताएँ
portal-complete-skip = अभी नहीं
portal-complete-agree-all = आगे बढ़ने के लिए कृपया हर बात पर सहमति दें।
portal-complete-field-needed = आगे बढ़ने के लिए { $field } ज़रूरी है।

## पोर्टल के इनकार।
portal-err-field-value = { $field } बहुत लंबा है या उसमें ऐसे अक्षर हैं जो दिखाए नहीं जा सकते।
portal-err-unknown-field = अनजान प्रोफ़ाइल फ़ील्ड { $field }।
portal-err-birthdate = जन्म तिथि YYYY-MM-DD के रूप में लिखें।
portal-err-delete-password = आपका पासवर्ड सही नहीं है। आपका खाता नहीं हटाया गया।
portal-err-delete-word = पुष्टि के लिए { $word } लिखें। आपका खाता नहीं हटाया गया।
portal-err-password-short = पासवर्ड में कम से कम 8 अक्षर होने चाहिए।
portal-err-password-long = पासवर्ड 1024 बाइट से लंबा नहीं हो सकता।
