## ===== E-mail (issue 19.3): the address in /settings, its confirmation code, invoices and notices by e-mail =====
## handlers/email.py sends; core/email_address.py checks the address and the code.

## --- the e-mails

email-code-subject = Your e-mail confirmation code for the personal cabinet
email-code-body =
    Hello,

    Your confirmation code: { $code }

    Type it in the chat with the personal cabinet bot. The code is valid for { $minutes } min.
    If you did not give this address, just ignore this e-mail: without the code it is not added.
email-invoice-subject = The invoice for { $month }, account { $account }
email-invoice-body =
    Hello,

    The invoice for { $month } for account { $account }: { $amount } for { $kwh } kWh, due by { $due }.
    The invoice is attached as a PDF.
email-notice-subject = A message from your personal cabinet
email-subject-debt = Debt on account { $subject }
email-subject-reading = Time to submit meter readings, account { $subject }
email-subject-verification = Meter verification
email-subject-outages = Power outage
email-subject-orders = Order No. { $subject }: status changed
email-footer =
    —
    You receive this e-mail because you gave this address in the bot's settings (/settings). You can change or remove it there.

## --- the chat: the address

email-settings-button = E-mail: { $address }
email-settings-none = not set
email-ask = Type your e-mail address, e.g. olena.koval@ukr.net. We will send a confirmation code to it.
email-bad-empty = You did not type an address. Type an e-mail, e.g. olena.koval@ukr.net.
email-bad-spaces = An e-mail address has no spaces. Check it and type it again.
email-bad-no-at = This does not look like an e-mail: it needs a mailbox name, the @ sign and a domain, e.g. olena.koval@ukr.net.
email-bad-name = The mailbox name (before @) may hold only Latin letters, digits and . _ - + and may not start or end with a dot.
email-bad-domain = The domain after @ is wrong. Check it, e.g. ukr.net, gmail.com.
email-bad-too-long = The address is too long (over 254 characters). Type another one.
email-code-sent = We have sent a confirmation code to { $address }. Type the 6 digits from the e-mail (the code is valid for { $minutes } min). No e-mail? Check the spam folder.
email-code-not-a-code = The code is the 6 digits from the e-mail. Type them or press "Send a new code".
email-code-wrong = Wrong code. Tries left: { $tries }.
email-code-spent = No tries left. Ask for a new code.
email-code-expired = The code has expired. Ask for a new code.
email-code-again-button = Send a new code
email-code-limit-chat = Too many codes this hour. You can ask for a new one at { $at }.
email-code-limit-address = Too many codes have been sent to this address today. You can ask for a new one { $at }.
email-send-failed = We could not send an e-mail to { $address }. Please try again later.
email-confirmed = The address { $address } is confirmed. Monthly invoices (with the PDF) will come to it too.
email-settings-refused = E-mail: { $address } ⚠
email-refused-menu = The mail server does not take e-mail for { $address }, so we send nothing there. Change the address or remove it.
email-change-button = Change e-mail
email-remove-button = Remove e-mail
email-removed = The address { $address } is removed: we will send nothing more to it.
email-refused = The mail server does not take e-mail for { $address }. Check the address and type it again.

## --- the chat: what goes by e-mail

email-notices-ask = What should also go to { $address }? Press one to turn it on or off.
email-notices-button = What goes by e-mail
email-notice-on = “{ $name }” will come by e-mail too.
email-notice-off = “{ $name }” will no longer come by e-mail.
email-notice-invoice = Monthly invoices (with the PDF)
email-notice-debt = Debt reminders
email-notice-reading = Reading window
email-notice-verification = Meter verification
email-notice-outages = Outages
email-notice-orders = Order status
email-notice-switch = { $on ->
    [yes] ✅ { $name }
   *[no] ⬜ { $name }
}

## --- the chat: paper invoice

email-paper-ask = Should the paper invoice for account { $account } still come by post?
email-paper-yes = Yes, paper too
email-paper-no = No, electronic only
email-paper-recorded-yes = Recorded: the paper invoice for account { $account } will keep coming.
email-paper-recorded-no = Recorded: no more paper invoices for account { $account }. Monthly invoices will come to the chat and by e-mail.
