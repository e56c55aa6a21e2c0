# The SAML identity provider's page that carries the answer to the application.
saml-post-title = ऐप्लिकेशन पर जारी रखें
saml-post-intro = आप साइन इन हैं। ऐप्लिकेशन पर लौटने के लिए जारी रखें।
saml-post-continue = जारी रखें
