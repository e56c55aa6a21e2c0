# बच्चों के खाते (DPDP अधिनियम धारा 9, नियम 10)।
# Translators: keep the message ids; change only the text after "=".

child-birthdate-label = जन्म तिथि
child-birthdate-hint = YYYY-MM-DD के रूप में, जैसे 2001-04-30।
child-parent-email-label = माता या पिता का ईमेल पता
child-parent-email-when = (यदि आपकी आयु { $age } से कम है)
child-parent-email-hint = आपके खाते का उपयोग शुरू होने से पहले हम आपके माता-पिता से सहमति माँगेंगे।

child-pending-title = आपके माता-पिता की प्रतीक्षा
child-pending-body = आपका खाता बन गया है, पर इसका उपयोग करने से पहले माता या पिता की सहमति ज़रूरी है। हमने आपके माता-पिता को एक लिंक ईमेल किया है।
child-pending-next = जैसे ही आपके माता-पिता सहमति देंगे, आप साइन इन कर सकेंगे। यदि वे मना करें या समय पर उत्तर न दें, तो खाता और उसका सारा डेटा हटा दिया जाएगा।

child-parent-title = { $tenant } पर एक बच्चे का खाता
child-parent-intro-named = { $child } { $tenant } पर खाता बनाना चाहते हैं और उन्होंने आपको अपना माता या पिता बताया है। आपकी सहमति तक खाता बंद रहेगा।
child-parent-intro = एक बच्चा { $tenant } पर खाता बनाना चाहता है और उसने आपको अपना माता या पिता बताया है। आपकी सहमति तक खाता बंद रहेगा।
child-parent-purposes = खाते के डेटा का उपयोग किन कामों के लिए होगा
child-parent-no-purposes = केवल खाता चलाने के लिए।
child-parent-no-tracking = बच्चे के खाते को कभी ट्रैक या प्रोफ़ाइल नहीं किया जाता, न ही उसे लक्षित विज्ञापन दिखाए जाते हैं।
child-parent-consent-heading = माता या पिता के रूप में सहमति दें
child-parent-consent-hint = इस सेवा के अपने वयस्क खाते से साइन इन करें: उससे यह दिखना चाहिए कि आप वयस्क हैं।
child-parent-consent-button = मैं माता/पिता हूँ और सहमति देता/देती हूँ
child-parent-refuse-heading = मना करें
child-parent-refuse-hint = बच्चे का खाता और उसका सारा डेटा हटा दिया जाएगा।
child-parent-refuse-button = मना करें और खाता हटाएँ
child-given-title = धन्यवाद
child-given-body = आपने सहमति दे दी है। आपका बच्चा अब { $tenant } में साइन इन कर सकता है।
child-refused-title = खाता हटा दिया गया
child-refused-body = आपने मना किया। { $tenant } पर बच्चे का खाता और उसका सारा डेटा हटा दिया गया है।

child-mail-subject = आपका बच्चा { $tenant } पर खाता बनाना चाहता है
child-mail-body = { $child } { $tenant } पर खाता बनाना चाहते हैं और उन्होंने आपको अपना माता या पिता बताया है। खाते के डेटा का उपयोग किन कामों के लिए होगा, यह पढ़ें और यहाँ सहमति दें या मना करें:
child-mail-expiry = यह लिंक केवल एक बार और { $days } दिन तक काम करेगा। यदि इस समय में कोई सहमति नहीं देता, तो खाता हटा दिया जाएगा।

child-err-pending = यह खाता माता या पिता की सहमति की प्रतीक्षा में है। हमने आपके माता-पिता को एक लिंक ईमेल किया है।
child-err-under-age = क्षमा करें, यहाँ खाता बनाने के लिए आपका वयस्क होना ज़रूरी है।
child-err-birthdate-needed = अपनी जन्म तिथि दर्ज करें।
child-err-parent-needed = आपकी आयु 18 से कम है: माता या पिता का ईमेल पता दर्ज करें, ताकि वे सहमति दे सकें।
child-err-parent-is-child = माता या पिता का ईमेल पता आपका अपना नहीं हो सकता।
child-err-bad-link = यह सहमति लिंक मान्य नहीं है, पहले ही उपयोग हो चुका है, या इसकी अवधि समाप्त हो गई है।
child-err-parent-not-adult = केवल ऐसा वयस्क खाता, जिसमें जन्म तिथि दर्ज हो, किसी बच्चे के लिए सहमति दे सकता है।
child-err-parent-is-self = बच्चा अपने ही खाते के लिए सहमति नहीं दे सकता।
child-err-purpose-barred = यह उद्देश्य बच्चे के खाते के लिए उपलब्ध नहीं है।
child-err-birthdate-invalid = जन्म तिथि मान्य तिथि नहीं है (YYYY-MM-DD)।
child-err-birthdate-future = जन्म तिथि भविष्य की नहीं हो सकती।
child-err-birthdate-old = जन्म तिथि 130 वर्ष से अधिक पहले की नहीं हो सकती।
