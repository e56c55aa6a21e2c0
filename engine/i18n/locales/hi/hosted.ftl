# साइन-इन, साइन-अप, अनुमति, साइन-आउट और खाता पेज।

sign-in-title = { $tenant } में साइन इन करें
email-label = ईमेल
password-label = पासवर्ड
name-label = नाम
sign-in-button = साइन इन करें
sign-in-email-code = इसके बजाय मुझे कोड ईमेल करें
forgot-password = पासवर्ड भूल गए?
sign-in-phone-code = एसएमएस कोड से साइन इन करें
sign-in-passkey = पासकी से साइन इन करें
sign-in-failed = ईमेल या पासवर्ड ग़लत है।
form-expired = यह फ़ॉर्म पुराना हो गया है। कृपया फिर से कोशिश करें।
sign-up-prompt = पहली बार आए हैं?
sign-up-link = खाता बनाएँ
sign-up-title = अपना { $tenant } खाता बनाएँ
password-hint = कम से कम 8 अक्षर।
sign-up-code-hint = पता पक्का करने के लिए हम आपको एक कोड ईमेल करेंगे।
sign-up-button = आगे बढ़ें
sign-in-prompt = पहले से खाता है?
sign-in-link = साइन इन करें

scope-openid = आपकी पहचान जानना (आपकी खाता आईडी)
scope-profile = आपका नाम देखना
scope-email = आपका ईमेल पता देखना
scope-offline_access = आपको साइन इन रखना और आपकी ग़ैरमौजूदगी में आपकी ओर से काम करना
scope-phone = आपका सत्यापित फ़ोन नंबर देखना
scope-verified_claims = देखना कि आपकी पहचान कैसे सत्यापित हुई (तरीका, तारीख़, और नाम मेल खाने पर आपका नाम)
scope-verify = आपकी पहचान सत्यापित करने के लिए दस्तावेज़ भेजना
scope-other = अन्य पहुँच
scope-at-api = { $api } पर { $scope }
consent-title = { $client } आपके खाते तक पहुँच चाहता है
consent-intro = यह ये कर सकेगा:
consent-allow = अनुमति दें
consent-deny = मना करें

sign-out-title = साइन आउट करें?
sign-out-question = क्या आप { $tenant } से साइन आउट करना चाहते हैं?
sign-out-button = साइन आउट करें
signed-out-title = आप साइन आउट हो गए हैं
close-window = अब आप यह विंडो बंद कर सकते हैं।

account-title = आपका खाता
account-signed-in-as = इस रूप में साइन इन
account-data-title = आपका डेटा
account-download = मेरा डेटा डाउनलोड करें
account-download-hint = (JSON: प्रोफ़ाइल, सेशन, ऐप, अनुमतियाँ, दूसरे फ़ैक्टर, गतिविधि)
apps-title = जिन ऐप के पास पहुँच है
app-signed-in-times = { $count } बार साइन इन
app-remove = पहुँच हटाएँ
sessions-title = आप कहाँ-कहाँ साइन इन हैं
session-signed-in = { $when } UTC पर साइन इन
session-this-browser = यह ब्राउज़र
session-sign-out = साइन आउट करें
sessions-sign-out-others = बाकी सभी सेशन से साइन आउट करें
consent-page-title = पहुँच की अनुमति दें
signed-out-frame = किसी ऐप से आपको साइन आउट किया जा रहा है
