## /details: Персональна інформація особового рахунку; фінансова інформація (баланс за період) та історія оплат за
## місяць чи рік (core/flows/details.py, core/flows/history.py)

details-choose-account = Персональну інформацію якого особового рахунку показати?
details-button = Персональна інформація { $account }
details-header = Персональна інформація, особовий рахунок { $account }
details-eic = Код EIC: { $eic }
details-eic-unknown = Код EIC: постачальник не надав
details-contract = Договір: № { $number } від { $on }
details-contract-number = Договір: № { $number }
details-contract-date = Договір від { $on }
details-contract-unknown = Договір: постачальник не надав даних
details-consumer-type = Тип споживача: { $kind ->
    [business] непобутовий
   *[household] побутовий
}
details-owner = Споживач: { $name }
details-owner-masked = Споживач: { $name } (повністю ім'я видно лише в чаті, який підключив особовий рахунок першим)
details-address = Адреса: { $address }
details-tariff = Тарифний план: { $plan }
details-meters = Лічильники:
    { $lines }
details-meter-line = • { $meter } — { $type }, розрядність { $digits }, зон: { $zones }, наступна повірка до { $on }
details-meter-line-no-verification = • { $meter } — { $type }, розрядність { $digits }, зон: { $zones }, дата наступної повірки невідома
details-no-meters = Лічильників за особовим рахунком немає.
details-finances-button = Фінансова інформація
details-payments-button = Історія оплат

period-ask-finances = Фінансова інформація, особовий рахунок { $account }: за який місяць чи рік? Напишіть, наприклад, 2025, 2025-03 або березень 2025.
period-ask-payments = Історія оплат, особовий рахунок { $account }: за який місяць чи рік? Напишіть, наприклад, 2025, 2025-03 або березень 2025.
period-bad = Не зрозумів, який це місяць чи рік: «{ $text }». Напишіть, наприклад, 2025, 2025-03 або березень 2025.
period-not-begun = Ще не настав період, який ви обрали: { $period }.
period-year = { $year } рік
# The beginnings of the months' names, January to December, as people type them (any form of the word): "березня" is March.
period-month-stems = січ лют бер кві тра чер лип сер вер жов лис гру

finances-header = Фінансова інформація, особовий рахунок { $account }, { $period }:
finances-from = Дані постачальника про рахунки й оплати є лише з { $on }, тож пораховано з цього дня.
finances-no-data = За { $period } порахувати баланс особового рахунку { $account } не можна: дані постачальника про рахунки й оплати є лише з { $on }.
finances-opening = { $kind ->
    [owed] На початок { $on }: борг { $amount }
    [overpaid] На початок { $on }: переплата { $amount }
   *[zero] На початок { $on }: 0,00 грн
}
finances-charged = Нараховано: { $amount }
finances-invoice-line = • рахунок за { $month } від { $on }: { $amount }
finances-paid = Сплачено: { $amount }
finances-payment-line = • { $on }: { $amount }
finances-closing = { $kind ->
    [owed] На кінець { $on }: борг { $amount }
    [overpaid] На кінець { $on }: переплата { $amount }
   *[zero] На кінець { $on }: 0,00 грн
}

payments-period-header = Історія оплат за { $period }, особовий рахунок { $account }:
    { $lines }
    Разом: { $total }
payments-period-none = За { $period } оплат за особовим рахунком { $account } немає.
payments-period-from = Дані постачальника про оплати є лише з { $on }.
payments-period-no-data = Оплат за { $period } за особовим рахунком { $account } у даних постачальника немає: вони є лише з { $on }.
