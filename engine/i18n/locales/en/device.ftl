# Connecting a device (a TV, a console) with the code it shows (RFC 8628).

device-title = Connect a device
device-intro = Enter the code shown on your TV, console or other device.
device-code-label = Code
device-code-help = Eight letters; the dash is optional.
device-code-unknown = That code is not right. Check the code on your device and try again.
device-code-expired = That code has expired or was already used. Start again on your device for a new one.
device-confirm-title = Allow { $client } on your device?
device-confirm-asking = A device is asking to use { $client } with your account.
device-confirm-check = Allow it only if you started this yourself and the device shows the code you entered.
# Followed by the code itself.
device-confirm-check-code = Allow it only if you started this yourself and the device shows the code you entered:
device-choose = Choose Allow or Deny.
device-connected-title = Your device is connected
device-connected = You can go back to your device now; it will continue on its own.
device-denied-title = Request denied
device-denied = The device was not given access. You can close this window.
