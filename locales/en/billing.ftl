## Billing views: /history, /invoices, /meter (core/flows/billing_views.py)

## /balance: what to pay now and how it is counted (core/flows/billing_views.py)

due-header = Account { $account }, { $address }
due-to-pay = To pay now: { $amount }.
due-overpaid = Overpaid by { $amount }: nothing to pay.
due-nothing = Nothing owed: nothing to pay.
due-last-payment = Last payment: { $amount }, { $on }.
due-last-invoice = Invoice for { $month }: { $amount } for { $kwh } kWh, due by { $due }.
due-last-invoice-paid = Invoice for { $month }: { $amount } for { $kwh } kWh, paid.
due-how-button = How is it counted?
pay-button = Pay { $amount }
pay-card-button = Pay by card
due-pending-payment = Paid online { $amount } ({ $on }): it will appear on the account after processing.
due-how = How the amount to pay on account { $account } is counted:
    { $lines }
due-how-balance-owed = Owed on { $on }: { $amount }
due-how-balance-overpaid = Overpaid on { $on }: −{ $amount }
due-how-balance-zero = Balance on { $on }: UAH 0.00
due-how-invoice = Invoice for { $month } of { $on }: { $amount }
due-how-payment = Payment of { $on }: { $amount }
due-how-pending = Online payment of { $on }, in processing: { $amount }
due-how-to-pay = To pay now: { $amount }
due-how-overpaid = Overpaid now: { $amount }, nothing to pay
due-how-nothing = To pay now: UAH 0.00, nothing to pay
due-how-same-day = Invoices and payments of { $on } are already counted in the amount on that day.

billing-account-not-linked = Account { $account } is not linked to this chat.
billing-account-button = { $account } — { $address }
history-choose-account = Which account's history shall I show?
invoices-choose-account = Which account's invoices shall I show?

month-year = { $month } { $year }
# An amount in hryvnias; { $amount } comes with the language's decimal mark and thousands separator.
money = UAH { $amount }
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December
month-short-1 = Jan
month-short-2 = Feb
month-short-3 = Mar
month-short-4 = Apr
month-short-5 = May
month-short-6 = Jun
month-short-7 = Jul
month-short-8 = Aug
month-short-9 = Sep
month-short-10 = Oct
month-short-11 = Nov
month-short-12 = Dec

reading-source-telegram = Telegram
reading-source-viber = Viber
reading-source-console = console
reading-source-cabinet = web cabinet
reading-source-controller = meter inspector
reading-source-receipt = receipt

history-header = History of account { $account } ({ $address }) for { $first }–{ $last }.
history-payments = Payments:
    { $lines }
history-payment-line = { $on } — { $amount }
history-payment-purpose-line = { $on } — { $amount } ({ $purpose })
history-payment-pending-line = { $on } — { $amount } (online, in processing)
history-no-payments = No payments in this time.
history-consumption = Consumption by month:
    { $lines }
history-consumption-line = { $month }: { $kwh } kWh
history-consumption-zones-line = { $month }: { $kwh } kWh ({ $zones })
history-consumption-invoice-line = { $month }: { $kwh } kWh (by invoice)
history-consumption-gap-line = { $month }: no data (no readings, no invoice)
history-months-span = { $first } – { $last }
history-consumption-meter = meter { $meter } — { $values }
history-consumption-span-note = Months named together are covered by one pair of readings: none were sent in between, so their consumption is given together.
history-no-consumption = No consumption data for this time yet: it needs two readings or an invoice.
history-chart-caption = Consumption chart, account { $account }.
history-readings = Reading history:
    { $lines }
history-readings-meter = Meter { $meter }:
history-reading-line = { $on } — { $values } ({ $source })
history-no-readings = No readings in this time.

chart-title = Electricity consumption, kWh
chart-subtitle = Personal account { $account }
chart-by-readings = by readings
chart-by-invoice = by invoice
chart-meter = meter { $meter }
chart-meter-zone = { $meter }: { $zone }
chart-no-data = no data

invoices-none = There are no invoices for account { $account } yet.
invoices-archive = Invoices of earlier months, account { $account }:
invoices-month-button = { $month }
invoice-missing = There is no invoice for { $month } on account { $account }.
invoice-summary = Invoice for { $month }, account { $account }: { $amount } for { $kwh } kWh. Issued { $issued }, due by { $due }.
invoice-paid = This invoice is paid.
invoice-to-pay = To pay: { $amount }.
invoice-part-paid = Partly paid, to pay: { $amount }.
invoice-account-due = In all, to pay on the account now: { $amount } (/balance).

receipt-title = Electricity invoice for { $month }
receipt-account = Personal account
receipt-consumer = Consumer
receipt-address = Address
receipt-period = Period
receipt-consumption = Consumed
receipt-kwh = { $kwh } kWh
receipt-amount = Invoice amount
receipt-to-pay = To pay
receipt-paid = This invoice is paid
receipt-issued = Issued
receipt-due = Due by
receipt-payee = Payment details
receipt-payee-name = Payee
receipt-payee-iban = IBAN
receipt-payee-code = EDRPOU code
receipt-purpose-label = Purpose of payment
receipt-payee-missing = Ask your supplier for the payment details.
receipt-qr-caption = Scan the QR code with your phone's camera or your bank's app: the payment fills itself in.
receipt-footer = This invoice was made by the personal cabinet bot from the supplier's data.

meter-none = No meter is registered for the linked accounts.
meter-card = Meter { $meter } (account { $account })
    Type: { $type }
    Digits: { $digits }
    Zones: { $zones } ({ $names })
    Transformation factor: { $k }
    Installed: { $installed }
meter-verification = Next verification: by { $on }
meter-verification-unknown = The next verification date is not known.
meter-last-reading = Last reading: { $values }, { $on } ({ $source })
meter-no-readings = No readings yet.

## The page GET /payments/liqpay/pay answers when it does not open the card payment page (handlers/payments.py)

pay-link-expired = This payment link has expired. Send /balance in the chat with the bot for a new one with the amount to pay now.
pay-link-paid = This link has been paid already. /balance in the chat with the bot shows what there is to pay now.
pay-link-broken = The payment link is broken. Open it from the chat with the bot again, or send /balance.
