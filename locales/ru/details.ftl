## /details: персональная информация лицевого счёта; финансовая информация (баланс за период) и история оплат за
## месяц или год (core/flows/details.py, core/flows/history.py)

details-choose-account = Персональную информацию какого лицевого счёта показать?
details-button = Персональная информация { $account }
details-header = Персональная информация, лицевой счёт { $account }
details-eic = Код EIC: { $eic }
details-eic-unknown = Код EIC: поставщик не предоставил
details-contract = Договор: № { $number } от { $on }
details-contract-number = Договор: № { $number }
details-contract-date = Договор от { $on }
details-contract-unknown = Договор: поставщик не предоставил данных
details-consumer-type = Тип потребителя: { $kind ->
    [business] небытовой
   *[household] бытовой
}
details-owner = Потребитель: { $name }
details-owner-masked = Потребитель: { $name } (полностью имя видно только в чате, который подключил лицевой счёт первым)
details-address = Адрес: { $address }
details-tariff = Тарифный план: { $plan }
details-meters = Счётчики:
    { $lines }
details-meter-line = • { $meter } — { $type }, разрядность { $digits }, зон: { $zones }, следующая поверка до { $on }
details-meter-line-no-verification = • { $meter } — { $type }, разрядность { $digits }, зон: { $zones }, дата следующей поверки неизвестна
details-no-meters = Счётчиков по лицевому счёту нет.
details-finances-button = Финансовая информация
details-payments-button = История оплат

period-ask-finances = Финансовая информация, лицевой счёт { $account }: за какой месяц или год? Напишите, например, 2025, 2025-03 или март 2025.
period-ask-payments = История оплат, лицевой счёт { $account }: за какой месяц или год? Напишите, например, 2025, 2025-03 или март 2025.
period-bad = Не понял, какой это месяц или год: «{ $text }». Напишите, например, 2025, 2025-03 или март 2025.
period-not-begun = Выбранный период ещё не наступил: { $period }.
period-year = { $year } год
# Начала названий месяцев, с января по декабрь, как их пишут (в любой форме слова): «марта» — март, «мая» — май.
period-month-stems = янв фев мар апр ма июн июл авг сен окт ноя дек

finances-header = Финансовая информация, лицевой счёт { $account }, { $period }:
finances-from = Данные поставщика о счетах и оплатах есть только с { $on }, поэтому посчитано с этого дня.
finances-no-data = За { $period } посчитать баланс лицевого счёта { $account } нельзя: данные поставщика о счетах и оплатах есть только с { $on }.
finances-opening = { $kind ->
    [owed] На начало { $on }: долг { $amount }
    [overpaid] На начало { $on }: переплата { $amount }
   *[zero] На начало { $on }: 0,00 грн
}
finances-charged = Начислено: { $amount }
finances-invoice-line = • счёт за { $month } от { $on }: { $amount }
finances-paid = Оплачено: { $amount }
finances-payment-line = • { $on }: { $amount }
finances-closing = { $kind ->
    [owed] На конец { $on }: долг { $amount }
    [overpaid] На конец { $on }: переплата { $amount }
   *[zero] На конец { $on }: 0,00 грн
}

payments-period-header = История оплат за { $period }, лицевой счёт { $account }:
    { $lines }
    Итого: { $total }
payments-period-none = За { $period } оплат по лицевому счёту { $account } нет.
payments-period-from = Данные поставщика об оплатах есть только с { $on }.
payments-period-no-data = Оплат за { $period } по лицевому счёту { $account } в данных поставщика нет: они есть только с { $on }.
