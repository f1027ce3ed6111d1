## Outages, services, appeals and settings (core/flows/outages.py, services.py, appeals.py, settings.py).

outages-account = Account { $account }, { $address }:
outage-line = { $kind ->
        [planned] 🔧 Planned outage
       *[emergency] ⚡ Emergency outage
    } { $started ->
        [yes] since { $starts }
       *[no] from { $starts }
    }
    Expected end: { $ends }
    Reason: { $reason }
outage-end-unknown = not known yet
outages-none = { $count ->
    [one] No current or upcoming outages at your address.
   *[other] No current or upcoming outages at the addresses of your accounts.
}

service-name-meter-noise = Noise in the electricity meter
service-name-meter-check = Extraordinary technical check of the meter
service-name-reconciliation-act = Reconciliation act
service-name-charges-statement = Statement of charges and payments
service-name-reconnection = Reconnection of the installation
service-name-meter-repair = Meter repair or replacement
service-name-control-reading = Control reading for recalculation
service-name-meter-verification = Meter verification
service-name-commission-documents = Documents to the commission (disputed debt or charges)
service-name-multifunction-meter = Installing a multifunction meter
service-attach-reconnection = a scan of the receipt for the paid debt, if the power was cut off for a debt
order-status-sent = Sent
order-status-accepted = Accepted
order-status-awaiting_confirmation = Awaiting confirmation
order-status-awaiting_payment = Awaiting payment
order-status-in_progress = In progress
order-status-done = Done
order-status-cancelled = Cancelled

service-choose = Which service would you like to order? Each says whether it is free or paid.
service-button = { $name } · { $price ->
        [paid] paid
        [priced] { $amount }
       *[free] free
    }
service-unknown = There is no such service. Choose one from the list:
orders-button = My orders
service-order-button = Order a service
service-account-button = { $account } — { $address }
service-ask-account = For which account?
service-ask-phone = { $service }. Enter a contact phone number (e.g. 0501234567 or +380501234567) or share your contact.
service-phone-bad = That is not a Ukrainian phone number. Enter 10 digits starting with 0 (e.g. 0501234567) or +380 and 9 digits.
service-ask-comment = Add a comment for the specialist (up to { $limit } characters), or skip.
service-skip-comment = Skip
service-comment-too-long = The comment is too long: up to { $limit } characters, please. Shorten it or skip.
service-ordered = Order No. { $number } is sent: “{ $service }”, account { $account }, phone { $phone }. Status: { $status }. I will tell you when it changes.
orders-none = You have no service orders yet.
orders-list = Your orders:
    { $orders }
orders-line = No. { $number } { $service } — { $status } ({ $on })
order-open = Order No. { $number }
order-unknown = No such order among those of your accounts.
order-details = Order No. { $number }: { $service }
    Account: { $account }
    Status: { $status }
    Phone: { $phone }
order-comment = Comment: { $comment }
order-history = History:
order-history-line = • { $at } — { $status }
order-history-line-comment = • { $at } — { $status }: { $comment }
order-cancel = Cancel the order
order-cancel-ask = Cancel order No. { $number } “{ $service }”?
order-cancel-yes = Yes, cancel
order-cancel-no = No, keep it
order-cancelled = Order No. { $number } is cancelled.
order-cancel-done = Order No. { $number } is already done; a done order cannot be cancelled.
order-cancel-already = Order No. { $number } is already cancelled.
order-cancel-not-here = Only the chat that placed order No. { $number } can cancel it.
order-confirm-ask = Read the contract and accept it to have the order carried out, or decline the service.
order-accept = Accept the contract
order-decline = Decline the service
order-accepted = You have accepted the contract. Order No. { $number }: { $status }.
order-declined = You have declined the service. Order No. { $number } is cancelled.
order-confirm-not-here = Only the chat the order was placed from can accept the contract of order No. { $number }.
order-confirm-late = Order No. { $number } is no longer awaiting confirmation. Status: { $status }.
order-to-pay = To pay: { $amount }. Work starts once the money reaches the utility (1–3 working days).
order-files = Your files in the order: { $count }
order-attach-button = Add a file
order-attach-anything = a photo or a scan of the documents needed
order-attach-ask = Order No. { $number }: add { $what }. Send a photo or a PDF file (up to { $limit } MB each); when everything is sent, press “Done”.
order-attach-done = Done
order-attach-waiting = Send a photo or a PDF file, or press “Done”.
order-attach-added = The file is added to order No. { $number } ({ $count } in all). Send another or press “Done”.
order-attach-finished = Files in order No. { $number }: { $count }. The specialist will see them.
order-attach-too-large = The file is too large: up to { $limit } MB, please. Send a smaller one or press “Done”.
order-attach-bad-type = Only a photo (JPEG, PNG) or a PDF file is taken. Send one or press “Done”.
order-attach-too-many = Order No. { $number } already has { $limit } files, no more can be added. Press “Done”.
order-attach-closed = No more files can be added to order No. { $number }: it is done or cancelled.

appeal-kind-invoice = Unclear invoice
appeal-kind-no-power = No electricity
appeal-kind-meter = Meter
appeal-kind-bot = The bot isn't working right
appeal-kind-other = Other
appeal-status-new = New
appeal-status-in_progress = In progress
appeal-status-answered = Answered
appeal-status-closed = Closed
appeals-button = My appeals
appeal-write = Write an appeal
appeal-choose-kind = What is your appeal to the call centre about?
appeal-ask-account = Which account is it about?
appeal-ask-text = { $kind }. Describe the matter in one message (up to { $limit } characters).
appeal-turns-note = We will attach your latest messages in this chat and the bot's answers from the last { $days } days (no photos, owner's surname or confirmation codes), so the operator can see what went wrong.
appeal-text-empty = The appeal has no text. Describe the matter in words.
appeal-text-too-long = The appeal is too long ({ $length } characters); the limit is { $limit }. Shorten it and send it again.
appeal-sent = Appeal No. { $number } is sent to the call centre: “{ $kind }”, account { $account }. Status: { $status }. The answer will appear in “My appeals”.
appeal-turns-attached = Messages from this chat attached to the appeal: { $count }.
appeals-none = You have not written any appeals yet.
appeals-list = Your appeals:

    { $appeals }
appeals-item = No. { $number } of { $on }, { $kind } — { $status }
    { $text }
appeals-answer = Answer: { $answer }
appeal-unlinked = No personal account is linked to this chat yet. Without one you can send only the appeal “{ $kind }” — for instance, if linking your account fails. Other appeals need a linked account.
appeal-sent-unlinked = Appeal No. { $number } is sent to the call centre: “{ $kind }”. Status: { $status }. The answer will come to this chat and appear in “My appeals”.
appeal-unlinked-too-many = Without a linked personal account a chat can send at most { $limit } appeals a day. You can send the next one after { $time }.
appeal-private-only = An appeal without a linked personal account can be sent only in a private chat with the bot, not in a group or a channel.

settings-summary = Settings. Press a reminder to turn it on or off. Quiet hours: { $quiet } (reminders wait until they end).
settings-saved = Saved. Quiet hours: { $quiet }.
settings-reminder-on = Reminders “{ $name }” turned on.
settings-reminder-off = Reminders “{ $name }” turned off: you will not get them until you turn them on again.
settings-language-button = Language: { $name }
settings-switch = { $on ->
        [yes] ✅
       *[no] ⬜
    } { $name }
settings-reminder-invoice = Invoices and debt
settings-reminder-reading = Reading window
settings-reminder-verification = Meter verification
settings-reminder-outages = Outages
settings-reminder-orders = Order status
settings-quiet-button = Quiet hours: { $quiet }
settings-quiet-off = off
settings-quiet-range = { $start }–{ $end }
settings-quiet-ask = Enter quiet hours, e.g. 22-8 or 22:00-08:00: no reminders come then.
settings-quiet-bad = That is not a time range. Enter it like 22-8 or 23:30-07:00 (hours 0–23, the start and the end differ).
settings-quiet-turn-off = Turn quiet hours off

contacts-list = How to reach the utility:
    { $contacts }
contacts-none = The utility's contacts have not been loaded yet. Write to us with /appeal.
contact-line = { $kind ->
        [emergency] ⚡
        [email] ✉
        [website] 🌐
        [office] 🏢
       *[call-centre] ☎
    } { $label }: { $value }{ $hours }
contact-hours = { " " }({ $hours })
contact-emergency = ⚡ Emergency service (day and night): { $phones }
