# मेल और टेक्स्ट मैसेज: एक बार के कोड, लिंक और खाते से जुड़ी सूचनाएँ।

## कोड वाले मेल

mail-sign-in-subject = { $tenant } के लिए आपका साइन-इन कोड
mail-sign-in-intro = { $tenant } में साइन इन करने के लिए आपका कोड यह है:
mail-sign-in-link = या साइन इन करने के लिए यह लिंक खोलें:

mail-reset-subject = अपना { $tenant } पासवर्ड रीसेट करें
mail-reset-intro = अपना { $tenant } पासवर्ड रीसेट करने के लिए आपका कोड यह है:
mail-reset-link = या नया पासवर्ड चुनने के लिए यह लिंक खोलें:

mail-verify-subject = { $tenant } के लिए अपने ईमेल पते की पुष्टि करें
mail-verify-intro = { $tenant } के लिए इस पते की पुष्टि करने का आपका कोड यह है:
mail-verify-link = या पुष्टि करने के लिए यह लिंक खोलें:

mail-sign-up-subject = अपना { $tenant } खाता बनाने के लिए आपका कोड
mail-sign-up-intro = अपना { $tenant } खाता बनाने के लिए आपका कोड यह है:

mail-change-email-subject = { $tenant } के लिए अपने नए ईमेल पते की पुष्टि करें
mail-change-email-intro = इस पते को अपना { $tenant } साइन-इन पता बनाने के लिए आपका कोड यह है:

mail-factor-subject = आपका { $tenant } सत्यापन कोड
mail-factor-intro = आपका { $tenant } सत्यापन कोड यह है:

mail-code-expiry = यह कोड { $minutes } मिनट में समाप्त हो जाएगा और केवल एक बार काम करेगा। अगर आपने इसे नहीं माँगा था, तो इस ईमेल को अनदेखा करें: कोड के बिना कुछ नहीं बदलेगा।

## पहले से मौजूद खाते के पते से साइन-अप

mail-existing-subject = किसी ने आपके पते से { $tenant } खाता बनाने की कोशिश की
mail-existing-body = किसी ने इस ईमेल पते से { $tenant } खाता बनाने की कोशिश की, जबकि इस पते का खाता पहले से मौजूद है।
mail-existing-if-you = अगर यह आप थे, तो इसके बजाय साइन इन करें (या पासवर्ड भूल गए हों तो साइन-इन पेज से उसे रीसेट करें)।
mail-existing-if-not = अगर यह आप नहीं थे, तो इस ईमेल को अनदेखा कर सकते हैं: कुछ भी नहीं बदला गया।

## साइन-इन पता बदलने पर पुराने पते को सूचना

mail-email-changed-subject = आपका { $tenant } साइन-इन पता बदल दिया गया
mail-email-changed-body = जिस ईमेल पते से आप { $tenant } में साइन इन करते हैं, उसे बदलकर { $address } कर दिया गया है।
mail-email-changed-advice = अगर यह आपने नहीं किया, तो तुरंत साइन-इन पेज से अपना पासवर्ड रीसेट करें या सहायता टीम से संपर्क करें।

## साइन-इन का तरीका जोड़ा या हटाया गया

mail-factor-added-subject = { $tenant } पर आपके खाते में साइन-इन का एक तरीका जोड़ा गया
mail-factor-added-body = आपके { $tenant } खाते में साइन-इन का एक तरीका ({ $method }) जोड़ा गया।
mail-factor-removed-subject = { $tenant } पर आपके खाते से साइन-इन का एक तरीका हटाया गया
mail-factor-removed-body = आपके { $tenant } खाते से साइन-इन का एक तरीका ({ $method }) हटाया गया।
mail-factor-advice = अगर यह आपने किया था, तो कुछ करने की ज़रूरत नहीं है। अगर नहीं, तो तुरंत साइन-इन पेज से अपना पासवर्ड रीसेट करें: उसके बाद आप हर वह तरीका हटा सकते हैं जिसे आप नहीं पहचानते।
mail-method-totp = ऑथेंटिकेटर ऐप
mail-method-passkey = पासकी
mail-method-phone = कोड के लिए फ़ोन नंबर
mail-method-recovery-codes = रिकवरी कोड का सेट
mail-method-email = ईमेल से कोड

## SMS या WhatsApp से कोड

sms-code = { $code } आपका { $tenant } सत्यापन कोड है। यह { $minutes } मिनट में समाप्त हो जाएगा। इसे किसी के साथ साझा न करें।
