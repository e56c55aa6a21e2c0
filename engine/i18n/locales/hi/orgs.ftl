# संगठन (issue 19): आमंत्रण का ईमेल और पेज, और संगठन चुनने का पेज।
# Translators: keep the message ids; change only the text after "=".

org-mail-subject = आपको { $tenant } पर { $org } से जुड़ने का आमंत्रण मिला है
org-mail-body = आपको { $tenant } पर { $org } से जुड़ने के लिए आमंत्रित किया गया है। इसी ईमेल पते से साइन इन करें या खाता बनाएँ, फिर स्वीकार करें:
org-mail-expiry = { $days ->
    [one] यह आमंत्रण एक दिन तक, केवल एक बार काम करेगा।
   *[other] यह आमंत्रण { $days } दिनों तक, केवल एक बार काम करेगा।
}

org-inv-title = { $org } से जुड़ें
org-inv-intro = आपको { $tenant } पर { $org } से जुड़ने के लिए आमंत्रित किया गया है।
org-inv-sign-in = स्वीकार करने के लिए आमंत्रित ईमेल पते से साइन इन करें या खाता बनाएँ।
org-inv-continue = आगे बढ़ें
org-inv-accept = स्वीकार करें और जुड़ें
org-inv-joined-title = { $org } में आपका स्वागत है
org-inv-joined = अब आप { $org } के सदस्य हैं।
org-inv-unknown = यह आमंत्रण मान्य नहीं है: इसका उपयोग हो चुका है, इसे वापस ले लिया गया है या यह गलत लिखा गया है।
org-inv-expired = इस आमंत्रण की अवधि समाप्त हो गई है। नया आमंत्रण माँगें।
org-inv-other-address = यह आमंत्रण किसी दूसरे ईमेल पते पर भेजा गया था। आमंत्रित पते से साइन इन करें।
org-inv-domain = आपका ईमेल पता ऐसा नहीं है जिसे यह संगठन स्वीकार करता है।
org-inv-problem-title = आमंत्रण

org-pick-title = संगठन चुनें
org-pick-intro = आप कई संगठनों के सदस्य हैं। { $client } के साथ आप किसका उपयोग करना चाहते हैं?
org-pick-label = संगठन
org-pick-submit = आगे बढ़ें
org-pick-invalid = सूची में से कोई एक संगठन चुनें।
