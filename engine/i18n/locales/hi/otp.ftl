# कोड और लिंक वाले पेज: ईमेल या फ़ोन (एसएमएस, व्हाट्सऐप) पर आए कोड से साइन इन, पासवर्ड
# रीसेट, ईमेल पते की पुष्टि, मोबाइल नंबर जोड़ना।

otp-code-label = कोड
otp-new-password-label = नया पासवर्ड
otp-send-code-button = मुझे कोड भेजें
otp-verify-button = पुष्टि करें
otp-confirm-button = पक्का करें
otp-create-account-button = खाता बनाएँ

otp-check-email-title = अपना ईमेल देखें
otp-check-phone-title = अपना फ़ोन देखें
otp-sent-if-exists = अगर { $recipient } का कोई खाता है, तो हमने उस पर 6 अंकों का कोड भेजा है। वह कोड यहाँ डालें।
otp-sent-if-exists-link = अगर { $recipient } का कोई खाता है, तो हमने उस पर 6 अंकों का कोड और एक लिंक भेजा है। वह कोड यहाँ डालें।
otp-sent-to = हमने { $recipient } पर 6 अंकों का कोड भेजा है। उसे यहाँ डालें।
otp-enter-emailed-code = हमने जो 6 अंकों का कोड ईमेल किया है, उसे डालें।
otp-enter-phone-code = हमने आपके फ़ोन पर जो 6 अंकों का कोड भेजा है, उसे डालें।
otp-new-code-sent = हमने आपके ईमेल पते पर 6 अंकों का नया कोड भेजा है। उसे यहाँ डालें।
otp-too-many = बहुत ज़्यादा कोड माँगे गए। लगभग { $minutes } मिनट बाद फिर कोशिश करें।

otp-link-sign-in-intro = हमने जो लिंक ईमेल किया है, उससे साइन इन करने के लिए आगे बढ़ें।

otp-forgot-title = अपना पासवर्ड रीसेट करें
otp-forgot-intro = अपने खाते का ईमेल पता डालें। नया पासवर्ड चुनने के लिए हम उस पर एक कोड और एक लिंक भेजेंगे।
otp-reset-title = नया पासवर्ड चुनें
otp-reset-code-intro = हमने जो 6 अंकों का कोड ईमेल किया है, उसे और अपना नया पासवर्ड डालें।
otp-reset-link-intro = अपने खाते के लिए नया पासवर्ड चुनें।
otp-reset-button = पासवर्ड सेट करें और साइन इन करें

otp-verify-link-title = अपने ईमेल पते की पुष्टि करें
otp-verify-link-intro = यह ईमेल पता आपका है, यह पक्का करने के लिए बटन दबाएँ।
otp-verified-title = ईमेल पते की पुष्टि हो गई
otp-verified-message = धन्यवाद: आपके ईमेल पते की पुष्टि हो गई है।
otp-go-to-account = अपने खाते पर जाएँ
otp-verify-email-title = अपने ईमेल पते की पुष्टि करें

otp-phone-sign-in-title = अपने फ़ोन से साइन इन करें
otp-phone-sign-in-intro = हम आपके खाते के मोबाइल नंबर पर एक कोड भेजेंगे।
otp-phone-add-title = मोबाइल नंबर जोड़ें
otp-phone-add-intro = यह नंबर आपका है, यह जाँचने के लिए हम उस पर एक कोड भेजेंगे।
otp-phone-add-button = यह नंबर जोड़ें
otp-phone-label = मोबाइल नंबर
otp-phone-placeholder = +91 98765 43210
otp-phone-hint = देश के कोड के साथ, + से शुरू करके।
otp-channel-legend = कोड कैसे भेजें
otp-channel-sms = एसएमएस
otp-channel-whatsapp = व्हाट्सऐप

otp-contact-title = संपर्क जानकारी
otp-email-status = ईमेल पता:
otp-email-verified = पुष्टि हो चुकी है
otp-email-not-verified = पुष्टि नहीं हुई है
otp-email-enter-code = हमने जो कोड ईमेल किया है, उसे डालें।
otp-email-new-code = मुझे नया कोड ईमेल करें
otp-add-phone = मोबाइल नंबर जोड़ें

otp-dead-link = इस लिंक का समय ख़त्म हो गया है या इसका इस्तेमाल हो चुका है। साइन-इन पेज से नया लिंक माँगें।
otp-keep-or-remove = चुनें कि उन्हें रखना है या हटाना है।
