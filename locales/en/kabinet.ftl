## Kabinet: every sentence a consumer reads, in English.

error-ours = Sorry, something went wrong on our side and your message was not processed. Please try again in a minute.
chat-slow-down = You are sending messages too often. Please wait a minute: until then new messages are not processed.

menu-balance = Balance
menu-reading = Submit reading
menu-accounts = My accounts
menu-link = Link account
menu-language = Language
menu-help = Help

welcome = Welcome to the electricity consumer's cabinet! Here you can see your balance and invoices, submit meter readings (as text or a photo), learn about outages and get reminders.
welcome-back = { $count ->
    [one] One personal account is linked to this chat.
   *[other] { $count } personal accounts are linked to this chat.
}
welcome-link-first = To begin, link your personal account: you will need its number and the owner's surname.
help =
    What I can do:
    /link — link a personal account (number and the owner's surname)
    /accounts — my accounts, unlink an account
    /balance — amount to pay now, last payment, invoice, tariff; /balance 2025 — balance over a year or a month
    /reading — submit a meter reading (or at once: /reading 12345)
    /history — payments, consumption by month with a chart, readings; /history 2025-03 — payments of a month or a year
    /invoices — invoices by month, as PDF with a payment QR code
    /meter — my meter and its verification date
    /details — personal information: EIC code, contract, consumer, meters
    /outages — planned and emergency outages at my address
    /service — order a service, follow my orders
    /appeal — write to the call centre, see the answers
    /contacts — phones, the emergency service, offices
    /settings — language, reminders, quiet hours
    /language — language
    /cancel — cancel what is in progress
    /forget — erase my data
    /help — this help
    You can also send a photo of your meter.
not-understood = I did not understand that. Choose an action in the menu or send /help.
command-unknown = Unknown command { $command }. The list of commands: /help.
text-empty = The message is empty. Choose an action in the menu or send /help.
text-too-long = The message is too long (over { $limit } characters); I did not process it.
message-unsupported = I do not handle messages of this kind. Send text, a photo of your meter, or choose an action in the menu.
contact-not-expected = Thank you, but no phone number is needed now. Nothing was saved.
button-stale = This button is no longer active. Choose an action in the menu.
cancel-nothing = There is nothing to cancel.
cancelled = Cancelled. Nothing was changed.

language-choose = Choose a language:
language-name-uk = Українська
language-name-en = English
language-name-ru = Русский
language-set = Language changed: English.
language-unknown = No such language. Available: { $languages }.

consent-ask = To link an account we need your consent to the processing of personal data (account number, surname, readings, chat identifier) to provide the cabinet's services. You can withdraw it with /forget.
consent-yes = I agree
consent-no = I do not agree
consent-recorded = Consent recorded.
consent-declined = An account cannot be linked without consent to the processing of personal data. Nothing was saved.

link-ask-account = Enter your personal account number (e.g. the 12 digits of the unified account from your invoice) or the EIC code (16 characters, starting with 62Z).
link-account-malformed = That does not look like a personal account number. Enter the 10 or 12 digits from your invoice (spaces or dashes are fine) or the 16-character EIC code.
link-ask-surname = Enter the account owner's surname.
link-surname-malformed = Enter the surname in letters, for example: Shevchenko.
link-refused = { $left ->
    [0] No account with this number and surname was found.
    [one] No account with this number and surname was found. Check and try again: one attempt is left this hour.
   *[other] No account with this number and surname was found. Check and try again: { $left } attempts are left this hour.
}
link-too-many = Too many failed attempts to link an account. Try again after { $time }.
link-private-only = A personal account can be linked only in a private chat with the bot, not in a group or a channel.
link-support-hint = Linking does not work? Write to the call centre with /appeal: the appeal “{ $kind }” can be sent without a linked account.
help-unlinked-appeal = Until an account is linked, /appeal sends only the appeal “{ $kind }” — for instance, if linking your account fails.
link-done = Account { $account } is linked: { $address }.
link-already = Account { $account } is already linked to this chat.

no-accounts = No account is linked to this chat yet.
accounts-list = Linked accounts:
    { $accounts }
account-line = • { $account } — { $address }
account-unlink = Unlink { $account }
account-link-another = Link another account
account-unlinked = Account { $account } is unlinked from this chat.

balance-tariff = Tariff “{ $plan }”: { $prices } UAH/kWh.
verification-expired = ⚠ The verification of meter { $meter } expired on { $on }. Please order a verification: /service
verification-soon = ⚠ Meter { $meter } must be verified by { $on } ({ $days } days left).

zone-value = { $zone }: { $value }
zone-1-1 = all day
zone-2-1 = day
zone-2-2 = night
zone-3-1 = peak
zone-3-2 = half-peak
zone-3-3 = night

reading-window-closed = Readings are accepted from { $opens } to { $closes }. The window is closed now; nothing was saved.
reading-no-meter = We have no meter on record for your account. Please contact the call centre: /appeal
reading-choose-meter = Which meter is the reading for?
reading-choose-meter-again = Choose a meter with a button below or send /cancel.
reading-meter-button = { $account } — meter { $meter }
reading-ask-one = Enter the reading of meter { $meter }: a whole number of at most { $digits } digits.
reading-ask-zones = Meter { $meter } has { $zones } zones ({ $names }). Enter { $zones } numbers separated by spaces in this order, each of at most { $digits } digits.
reading-previous = Previous reading: { $values } ({ $on }).
reading-empty = Enter the reading as a number.
reading-not-number = “{ $value }” is not a number. Enter the reading in digits, for example 12345.
reading-negative = A reading cannot be negative. Enter the number on the meter.
reading-decimal = Enter whole kWh only, without the digits after the decimal point.
reading-too-long = The reading does not fit the meter's { $digits } digits. Check the number.
reading-zone-count = { $zones } values are needed (one per zone), you entered { $given }. Enter them separated by spaces.
reading-rollover = The reading is lower than the previous one. If the meter passed through zero ({ $digits } digits), the consumption is { $kwh } kWh. Confirm or enter it again.
reading-large = A consumption of { $kwh } kWh is over 50,000 kWh. Check it, then confirm or enter it again.
reading-bare-confirm = Submit { $values } as the reading of meter { $meter }?
reading-confirm-button = Confirm
reading-reenter-button = Enter again
reading-accepted = ✅ Reading of meter { $meter } accepted: { $values } ({ $on }).
reading-replaces = This replaces { $values } sent today at { $time }.
reading-replaces-untimed = This replaces { $values } sent earlier today.
reading-closes-month = Sent in the first days of a month, the reading counts for { $month }.
reading-consumption = Consumption: { $kwh } kWh.
reading-k-factor = Including the transformation factor K = { $k }.
reading-first = This is the first reading of this meter in the cabinet, so consumption will be counted from the next one.
reading-cost = Estimated cost: { $amount } by the tariff “{ $plan }”.
reading-cost-other-zones = The cost is not estimated: the tariff “{ $plan }” is for a different number of zones than meter { $meter } has.

photo-kept = The photo is kept as evidence of the reading.

photo-empty = The photo did not arrive or the file is empty. Please send the photo of the meter again.

forget-ask = Unlink all accounts and erase this chat's data (language, consent, settings, unfinished actions, the invoice PDFs and charts sent here)? The utility's records keep the readings you submitted with their meter photos, your orders and appeals — with the account, no longer tied to this chat — and failed attempts to link an account, so that /forget does not reset their limit.
forget-yes = Yes, erase
forget-no = No
forget-done = This chat's data is erased and its accounts are unlinked. The utility's records keep the readings with their photos, orders and appeals (no longer tied to this chat) and failed link attempts. Send /start to begin again.

menu-history = History
menu-invoices = Invoices
menu-outages = Outages
menu-service = Services
menu-appeal = Appeals
menu-settings = Settings

photo-read = I read { $value } on the photo (meter { $meter }). Is that right?
photo-correct = Yes, submit it
photo-type = I'll type it
photo-unsure = I could not read the meter on the photo with confidence (the photo is kept as evidence).
photo-not-kept = I could not keep the photo as evidence: a fault on our side. The reading can still be submitted.
photo-unsure-not-kept = I could not read the meter on the photo with confidence.
photo-rejected-not-image = That does not look like a photo. Please send a photo of the meter as JPEG, PNG or WebP.
photo-rejected-unsupported-format = I cannot read this image format. Please send the photo as JPEG, PNG or WebP.
photo-rejected-truncated = The photo arrived damaged or incomplete. Please send it again.
photo-rejected-too-large = The image is too large. Please send an ordinary phone photo of the meter.
photo-rejected-empty = The photo did not arrive or the file is empty. Please send the photo of the meter again.
photo-busy = Many photos right now: please send it again in a minute or enter the reading in digits.
photo-one-at-a-time = One photo at a time, please: wait a minute and send it again.
photo-over-quota = The photo was neither kept nor read: the photo store of this personal account is full. You can enter the reading in digits.
photo-zone-name = { $label } ({ $name })
photo-read-zone = I read { $value } for zone { $zone } on the photo (meter { $meter }). Is that right?
photo-which-zone = I read { $value } on the photo (meter { $meter }), but cannot see which zone it is for. Which zone does the display show?
photo-zone-noted = Zone { $zone }: { $value } noted. Send a photo of the display when it shows { $count ->
        [one] zone
       *[other] zones
    } { $next }, or type { $count ->
        [one] its reading
       *[other] their readings separated by spaces in this order
    }.
