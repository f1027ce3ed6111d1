## Billing views: /history, /invoices, /meter (core/flows/billing_views.py)

## /balance: what to pay now and how it is counted (core/flows/billing_views.py)

due-header = Лицевой счёт { $account }, { $address }
due-to-pay = К оплате сейчас: { $amount }.
due-overpaid = Переплата { $amount } — платить ничего не нужно.
due-nothing = Задолженности нет — платить ничего не нужно.
due-last-payment = Последний платёж: { $amount }, { $on }.
due-last-invoice = Счёт за { $month }: { $amount } за { $kwh } кВт·ч, оплатить до { $due }.
due-last-invoice-paid = Счёт за { $month }: { $amount } за { $kwh } кВт·ч — оплачен.
due-how-button = Как это посчитано?
pay-button = Оплатить { $amount }
pay-card-button = Оплатить картой
due-pending-payment = Оплачено онлайн { $amount } ({ $on }): появится на лицевом счёте после обработки.
due-how = Как посчитана сумма к оплате по лицевому счёту { $account }:
    { $lines }
due-how-balance-owed = Долг на { $on }: { $amount }
due-how-balance-overpaid = Переплата на { $on }: −{ $amount }
due-how-balance-zero = Баланс на { $on }: 0,00 грн
due-how-invoice = Счёт за { $month } от { $on }: { $amount }
due-how-payment = Оплата { $on }: { $amount }
due-how-pending = Оплата онлайн { $on }, обрабатывается: { $amount }
due-how-to-pay = К оплате сейчас: { $amount }
due-how-overpaid = Переплата сейчас: { $amount } — платить ничего не нужно
due-how-nothing = К оплате сейчас: 0,00 грн — платить ничего не нужно
due-how-same-day = Счета и оплаты от { $on } уже учтены в сумме на эту дату.

billing-account-not-linked = Лицевой счёт { $account } не подключён к этому чату.
billing-account-button = { $account } — { $address }
history-choose-account = Историю какого лицевого счёта показать?
invoices-choose-account = Для какого лицевого счёта показать счета за месяцы?

month-year = { $month } { $year }
# An amount in hryvnias; { $amount } comes with the language's decimal mark and thousands separator.
money = { $amount } грн
month-1 = январь
month-2 = февраль
month-3 = март
month-4 = апрель
month-5 = май
month-6 = июнь
month-7 = июль
month-8 = август
month-9 = сентябрь
month-10 = октябрь
month-11 = ноябрь
month-12 = декабрь
month-short-1 = янв
month-short-2 = фев
month-short-3 = мар
month-short-4 = апр
month-short-5 = май
month-short-6 = июн
month-short-7 = июл
month-short-8 = авг
month-short-9 = сен
month-short-10 = окт
month-short-11 = ноя
month-short-12 = дек

reading-source-telegram = Telegram
reading-source-viber = Viber
reading-source-console = консоль
reading-source-cabinet = личный кабинет
reading-source-controller = контролёр
reading-source-receipt = квитанция

history-header = История лицевого счёта { $account } ({ $address }) за { $first }–{ $last } годы.
history-payments = Платежи:
    { $lines }
history-payment-line = { $on } — { $amount }
history-payment-purpose-line = { $on } — { $amount } ({ $purpose })
history-payment-pending-line = { $on } — { $amount } (онлайн, обрабатывается)
history-no-payments = Платежей за это время нет.
history-consumption = Потребление по месяцам:
    { $lines }
history-consumption-line = { $month }: { $kwh } кВт·ч
history-consumption-zones-line = { $month }: { $kwh } кВт·ч ({ $zones })
history-consumption-invoice-line = { $month }: { $kwh } кВт·ч (из счёта за месяц)
history-consumption-gap-line = { $month }: нет данных (ни показаний, ни счёта за месяц)
history-months-span = { $first } – { $last }
history-consumption-meter = счётчик { $meter } — { $values }
history-consumption-span-note = Месяцы, названные вместе, охватывает одна пара показаний: между ними показания не передавали, поэтому потребление за эти месяцы указано вместе.
history-no-consumption = Данных о потреблении за это время ещё нет: нужны показания, переданные хотя бы дважды, или счёт за месяц.
history-chart-caption = График потребления, лицевой счёт { $account }.
history-readings = История показаний:
    { $lines }
history-readings-meter = Счётчик { $meter }:
history-reading-line = { $on } — { $values } ({ $source })
history-no-readings = Показаний за это время нет.

chart-title = Потребление электроэнергии, кВт·ч
chart-subtitle = Лицевой счёт { $account }
chart-by-readings = по показаниям
chart-by-invoice = из счёта за месяц
chart-meter = счётчик { $meter }
chart-meter-zone = { $meter }: { $zone }
chart-no-data = нет данных

invoices-none = Для лицевого счёта { $account } счетов за месяцы ещё нет.
invoices-archive = Счета за месяцы, лицевой счёт { $account }:
invoices-month-button = { $month }
invoice-missing = Счёта за { $month } для лицевого счёта { $account } нет.
invoice-summary = Счёт за { $month }, лицевой счёт { $account }: { $amount } за { $kwh } кВт·ч. Выставлен { $issued }, оплатить до { $due }.
invoice-paid = Счёт оплачен.
invoice-to-pay = К оплате: { $amount }.
invoice-part-paid = Частично оплачен, к оплате: { $amount }.
invoice-account-due = Всего к оплате по лицевому счёту сейчас: { $amount } (/balance).

receipt-title = Счёт за электроэнергию за { $month }
receipt-account = Лицевой счёт
receipt-consumer = Потребитель
receipt-address = Адрес
receipt-period = Период
receipt-consumption = Потреблено
receipt-kwh = { $kwh } кВт·ч
receipt-amount = Сумма счёта
receipt-to-pay = К оплате
receipt-paid = Счёт оплачен
receipt-issued = Выставлен
receipt-due = Оплатить до
receipt-payee = Реквизиты для оплаты
receipt-payee-name = Получатель
receipt-payee-iban = IBAN
receipt-payee-code = Код ЕГРПОУ
receipt-purpose-label = Назначение платежа
receipt-payee-missing = Реквизиты для оплаты уточняйте у поставщика.
receipt-qr-caption = Отсканируйте QR-код камерой телефона или в приложении своего банка: платёж заполнится сам.
receipt-footer = Счёт сформирован ботом личного кабинета по данным поставщика.

meter-none = К подключённым лицевым счетам не привязан ни один счётчик.
meter-card = Счётчик { $meter } (лицевой счёт { $account })
    Тип: { $type }
    Разрядность: { $digits }
    Зон: { $zones } ({ $names })
    Коэффициент трансформации: { $k }
    Установлен: { $installed }
meter-verification = Следующая поверка: до { $on }
meter-verification-unknown = Дата следующей поверки неизвестна.
meter-last-reading = Последние показания: { $values }, { $on } ({ $source })
meter-no-readings = Показаний ещё нет.

## The page GET /payments/liqpay/pay answers when it does not open the card payment page (handlers/payments.py)

pay-link-expired = Эта ссылка на оплату устарела. Отправьте /balance в чате с ботом: там будет новая, с суммой к оплате сейчас.
pay-link-paid = По этой ссылке уже оплачено. Что оплатить сейчас, покажет /balance в чате с ботом.
pay-link-broken = Ссылка на оплату повреждена. Откройте её из чата с ботом ещё раз или отправьте /balance.
