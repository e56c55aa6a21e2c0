# शिकायतें और संपर्क (डीपीडीपी नियम 9 और 14): हर होस्ट किए गए पृष्ठ का फ़ुटर और खाता
# पृष्ठ का शिकायत फ़ॉर्म।
# Translators: keep the message ids; change only the text after "=".

grv-footer-dpo = डेटा संरक्षण अधिकारी: { $name }
grv-footer-contact = आपके व्यक्तिगत डेटा के बारे में प्रश्न: { $name }
grv-footer-email = ईमेल
grv-footer-phone = फ़ोन
grv-footer-response = शिकायतों का उत्तर { $days } दिनों के भीतर दिया जाता है।
grv-footer-more = गोपनीयता और शिकायतें
