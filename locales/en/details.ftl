## /details: an account's personal information; financial information (balance over a period) and payment history for
## a month or a year (core/flows/details.py, core/flows/history.py)

details-choose-account = Which account's personal information shall I show?
details-button = Personal information { $account }
details-header = Personal information, account { $account }
details-eic = EIC code: { $eic }
details-eic-unknown = EIC code: not given by the supplier
details-contract = Contract: No. { $number } of { $on }
details-contract-number = Contract: No. { $number }
details-contract-date = Contract of { $on }
details-contract-unknown = Contract: the supplier has not given its details
details-consumer-type = Consumer type: { $kind ->
    [business] business
   *[household] household
}
details-owner = Consumer: { $name }
details-owner-masked = Consumer: { $name } (the full name shows only in the chat that linked the account first)
details-address = Address: { $address }
details-tariff = Tariff plan: { $plan }
details-meters = Meters:
    { $lines }
details-meter-line = • { $meter } — { $type }, { $digits } digits, zones: { $zones }, next verification by { $on }
details-meter-line-no-verification = • { $meter } — { $type }, { $digits } digits, zones: { $zones }, next verification date not known
details-no-meters = The account has no meters.
details-finances-button = Financial information
details-payments-button = Payment history

period-ask-finances = Financial information, account { $account }: for which month or year? Write, for example, 2025, 2025-03 or March 2025.
period-ask-payments = Payment history, account { $account }: for which month or year? Write, for example, 2025, 2025-03 or March 2025.
period-bad = I could not tell which month or year “{ $text }” is. Write, for example, 2025, 2025-03 or March 2025.
period-not-begun = That period has not begun yet: { $period }.
period-year = { $year }
# The beginnings of the months' names, January to December, as people type them (any form of the word).
period-month-stems = jan feb mar apr may jun jul aug sep oct nov dec

finances-header = Financial information, account { $account }, { $period }:
finances-from = The supplier's data on invoices and payments starts on { $on }, so it is counted from that day.
finances-no-data = The balance of account { $account } for { $period } cannot be counted: the supplier's data on invoices and payments starts on { $on }.
finances-opening = { $kind ->
    [owed] At the start of { $on }: owed { $amount }
    [overpaid] At the start of { $on }: overpaid { $amount }
   *[zero] At the start of { $on }: UAH 0.00
}
finances-charged = Charged: { $amount }
finances-invoice-line = • invoice for { $month } of { $on }: { $amount }
finances-paid = Paid: { $amount }
finances-payment-line = • { $on }: { $amount }
finances-closing = { $kind ->
    [owed] At the end of { $on }: owed { $amount }
    [overpaid] At the end of { $on }: overpaid { $amount }
   *[zero] At the end of { $on }: UAH 0.00
}

payments-period-header = Payment history for { $period }, account { $account }:
    { $lines }
    Total: { $total }
payments-period-none = No payments on account { $account } in { $period }.
payments-period-from = The supplier's data on payments starts on { $on }.
payments-period-no-data = The supplier's data has no payments on account { $account } for { $period }: it starts on { $on }.
