# अंतर्निहित डेमो ऐप (डेवलपमेंट मोड)।

demo-not-enabled = डेमो चालू नहीं है।
demo-error = साइन इन पूरा नहीं हुआ: { $error } { $description }
demo-start-again = /demo पर डेमो फिर से शुरू करें।
demo-state-mismatch = state मेल नहीं खाता: /demo पर डेमो फिर से शुरू करें।
demo-no-code = कोई कोड वापस नहीं आया: /demo पर डेमो फिर से शुरू करें।
demo-signed-in-title = साइन इन हो गया
demo-signed-in-intro = डेमो ऐप ने अपना कोड भुना लिया। ID टोकन के क्लेम:
demo-scope = स्कोप: { $scope }।
demo-refresh = { $issued ->
    [yes] एक रीफ़्रेश टोकन जारी हुआ।
   *[no] कोई रीफ़्रेश टोकन जारी नहीं हुआ।
}
demo-sign-out = साइन आउट करें
demo-signed-out-title = आप साइन आउट हो गए हैं
demo-sign-in-again = फिर से साइन इन करें
