# पासकी: साइन-इन, दूसरे चरण और खाता जोड़ने वाले पेजों के हिस्से, साइन-अप के बाद पासकी
# का सुझाव, और खाता पेज का पासकी वाला हिस्सा।

passkey-add-button = पासकी जोड़ें
passkey-name-label = इसे नाम दें
passkey-name-placeholder = यह डिवाइस
passkey-use-button = पासकी इस्तेमाल करें
passkey-factor-intro = इस डिवाइस की पासकी या किसी सुरक्षा कुंजी का इस्तेमाल करें।
passkey-link-intro = या उस खाते की किसी पासकी से इसकी पुष्टि करें।

passkey-offer-title = अगली बार और जल्दी साइन इन करें
passkey-offer-intro = पासकी से आप पासवर्ड की जगह अपने फ़िंगरप्रिंट, चेहरे या स्क्रीन लॉक से साइन इन कर सकते हैं। यह आपके डिवाइस पर ही रहती है और फ़िशिंग से चुराई नहीं जा सकती।
passkey-offer-skip = अभी नहीं

passkey-account-title = पासकी
passkey-none-yet = अभी कोई पासकी नहीं है।
passkey-new-name = नया नाम
passkey-rename = नाम बदलें
passkey-remove = हटाएँ

passkey-error-cancelled = पासकी का अनुरोध रद्द हो गया या उसका समय ख़त्म हो गया।
passkey-error-exists = इस डिवाइस पर आपके खाते की पासकी पहले से है।
passkey-error-expired = यह पेज पुराना हो गया है। इसे फिर से लोड करके कोशिश करें।
passkey-error-signed-out = आप साइन इन नहीं हैं। साइन इन करके फिर कोशिश करें।
passkey-error-failed = कुछ गड़बड़ हो गई। कृपया फिर से कोशिश करें।
