# शिकायतें और संपर्क (डीपीडीपी नियम 9 और 14): हर होस्ट किए गए पृष्ठ का फ़ुटर और खाता
# पृष्ठ का शिकायत फ़ॉर्म।
# Translators: keep the message ids; change only the text after "=".

grv-footer-dpo = डेटा संरक्षण अधिकारी: { $name }
grv-footer-contact = आपके व्यक्तिगत डेटा के बारे में प्रश्न: { $name }
grv-footer-email = ईमेल
grv-footer-phone = फ़ोन
grv-footer-response = शिकायतों का उत्तर { $days } दिनों के भीतर दिया जाता है।
grv-footer-more = गोपनीयता और शिकायतें

grv-mail-subject = { $tenant } ने आपकी शिकायत का उत्तर दिया है
grv-mail-body = { $tenant } ने आपकी शिकायत का उत्तर दिया है। उत्तर पढ़ने के लिए साइन इन करें:

grv-title = शिकायतें
grv-intro = अपने व्यक्तिगत डेटा के बारे में प्रश्न पूछें या शिकायत दर्ज करें। हम { $days } दिनों के भीतर उत्तर देते हैं।
grv-category = विषय
grv-category-access = मेरे डेटा तक पहुँच
grv-category-correction = मेरे डेटा में सुधार
grv-category-erasure = मेरा डेटा मिटाना
grv-category-consent = मेरी सहमति
grv-category-other = कुछ और
grv-text = आपकी शिकायत
grv-submit = भेजें
grv-yours = आपकी शिकायतें
grv-none = आपने कोई शिकायत दर्ज नहीं की है।
grv-filed = { $date } को दर्ज
grv-due = उत्तर { $date } तक
grv-status-open = खुली
grv-status-answered = उत्तर दिया गया
grv-status-closed = बंद
grv-back = अपने खाते पर वापस जाएँ
grv-all = आपकी सभी शिकायतें
grv-account-link = अपने व्यक्तिगत डेटा के बारे में शिकायत दर्ज करें
grv-ticket-title = आपकी शिकायत
grv-ticket-id = संदर्भ
grv-ticket-status = स्थिति
grv-ticket-filed = दर्ज की गई
grv-ticket-due = उत्तर की अंतिम तिथि
grv-by-user = आप
grv-by-admin = उत्तर
grv-closed-note = बंद।
grv-error-category = चुनें कि शिकायत किस बारे में है।
grv-error-empty = अपनी शिकायत लिखें।
grv-error-long = आपकी शिकायत बहुत लंबी है: अधिकतम 4,000 अक्षर।
grv-error-control = आपकी शिकायत में ऐसे अक्षर हैं जिन्हें रखा नहीं जा सकता।
grv-error-too-many = आपकी बहुत सी शिकायतें उत्तर की प्रतीक्षा में हैं। नई शिकायत से पहले उत्तर की प्रतीक्षा करें।
