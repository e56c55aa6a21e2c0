# The SAML identity provider's page that carries the answer to the application.
saml-post-title = Continue to the application
saml-post-intro = You are signed in. Continue to go back to the application.
saml-post-continue = Continue
