## Billing views: /history, /invoices, /meter (core/flows/billing_views.py)

## /balance: what to pay now and how it is counted (core/flows/billing_views.py)

due-header = Особовий рахунок { $account }, { $address }
due-to-pay = До сплати зараз: { $amount }.
due-overpaid = Переплата { $amount } — сплачувати нічого не потрібно.
due-nothing = Заборгованості немає — сплачувати нічого не потрібно.
due-last-payment = Останній платіж: { $amount }, { $on }.
due-last-invoice = Рахунок за { $month }: { $amount } за { $kwh } кВт·год, сплатити до { $due }.
due-last-invoice-paid = Рахунок за { $month }: { $amount } за { $kwh } кВт·год — сплачено.
due-how-button = Як це пораховано?
pay-button = Сплатити { $amount }
pay-card-button = Сплатити карткою
due-pending-payment = Сплачено онлайн { $amount } ({ $on }): з'явиться на особовому рахунку після обробки.
payment-purpose = Оплата за електроенергію, особовий рахунок { $account }
order-payment-purpose = Оплата послуги за заявкою №{ $order }, особовий рахунок { $account }
due-how = Як пораховано суму до сплати за особовим рахунком { $account }:
    { $lines }
due-how-balance-owed = Борг на { $on }: { $amount }
due-how-balance-overpaid = Переплата на { $on }: −{ $amount }
due-how-balance-zero = Баланс на { $on }: 0,00 грн
due-how-invoice = Рахунок за { $month } від { $on }: { $amount }
due-how-payment = Оплата { $on }: { $amount }
due-how-pending = Оплата онлайн { $on }, обробляється: { $amount }
due-how-to-pay = До сплати зараз: { $amount }
due-how-overpaid = Переплата зараз: { $amount } — сплачувати нічого не потрібно
due-how-nothing = До сплати зараз: 0,00 грн — сплачувати нічого не потрібно
due-how-same-day = Рахунки й оплати від { $on } уже враховано в сумі на цю дату.

billing-account-not-linked = Особовий рахунок { $account } не підключено до цього чату.
billing-account-button = { $account } — { $address }
history-choose-account = Історію якого особового рахунку показати?
invoices-choose-account = Для якого особового рахунку показати рахунки за місяці?

month-year = { $month } { $year }
# An amount in hryvnias; { $amount } comes with the language's decimal mark and thousands separator.
money = { $amount } грн
month-1 = січень
month-2 = лютий
month-3 = березень
month-4 = квітень
month-5 = травень
month-6 = червень
month-7 = липень
month-8 = серпень
month-9 = вересень
month-10 = жовтень
month-11 = листопад
month-12 = грудень
month-short-1 = січ
month-short-2 = лют
month-short-3 = бер
month-short-4 = кві
month-short-5 = тра
month-short-6 = чер
month-short-7 = лип
month-short-8 = сер
month-short-9 = вер
month-short-10 = жов
month-short-11 = лис
month-short-12 = гру

reading-source-telegram = Telegram
reading-source-viber = Viber
reading-source-console = консоль
reading-source-cabinet = особистий кабінет
reading-source-controller = контролер
reading-source-receipt = квитанція

history-header = Історія особового рахунку { $account } ({ $address }) за { $first }–{ $last } роки.
history-payments = Платежі:
    { $lines }
history-payment-line = { $on } — { $amount }
history-payment-purpose-line = { $on } — { $amount } ({ $purpose })
history-payment-pending-line = { $on } — { $amount } (онлайн, обробляється)
history-no-payments = Платежів за цей час немає.
history-consumption = Споживання за місяцями:
    { $lines }
history-consumption-line = { $month }: { $kwh } кВт·год
history-consumption-zones-line = { $month }: { $kwh } кВт·год ({ $zones })
history-consumption-invoice-line = { $month }: { $kwh } кВт·год (з рахунку за місяць)
history-consumption-gap-line = { $month }: немає даних (ні показників, ні рахунку за місяць)
history-months-span = { $first } – { $last }
history-consumption-meter = лічильник { $meter } — { $values }
history-consumption-span-note = Місяці, названі разом, охоплює одна пара показників: між ними показників не передавали, тож споживання за ці місяці подано разом.
history-no-consumption = Даних про споживання за цей час ще немає: потрібні показники, передані щонайменше двічі, або рахунок за місяць.
history-chart-caption = Графік споживання, особовий рахунок { $account }.
history-readings = Історія показників:
    { $lines }
history-readings-meter = Лічильник { $meter }:
history-reading-line = { $on } — { $values } ({ $source })
history-no-readings = Показників за цей час немає.

chart-title = Споживання електроенергії, кВт·год
chart-subtitle = Особовий рахунок { $account }
chart-by-readings = за показниками
chart-by-invoice = з рахунку за місяць
chart-meter = лічильник { $meter }
chart-meter-zone = { $meter }: { $zone }
chart-no-data = немає даних

invoices-none = Для особового рахунку { $account } рахунків за місяці ще немає.
invoices-archive = Рахунки за місяці, особовий рахунок { $account }:
invoices-month-button = { $month }
invoice-missing = Рахунку за { $month } для особового рахунку { $account } немає.
invoice-summary = Рахунок за { $month }, особовий рахунок { $account }: { $amount } за { $kwh } кВт·год. Виставлено { $issued }, сплатити до { $due }.
invoice-paid = Рахунок сплачено.
invoice-to-pay = До сплати: { $amount }.
invoice-part-paid = Частково сплачено, до сплати: { $amount }.
invoice-account-due = Усього до сплати за особовим рахунком зараз: { $amount } (/balance).

receipt-title = Рахунок за електроенергію за { $month }
receipt-account = Особовий рахунок
receipt-consumer = Споживач
receipt-address = Адреса
receipt-period = Період
receipt-consumption = Спожито
receipt-kwh = { $kwh } кВт·год
receipt-amount = Сума рахунку
receipt-to-pay = До сплати
receipt-paid = Рахунок сплачено
receipt-issued = Виставлено
receipt-due = Сплатити до
receipt-payee = Реквізити для оплати
receipt-payee-name = Отримувач
receipt-payee-iban = IBAN
receipt-payee-code = Код ЄДРПОУ
receipt-purpose-label = Призначення платежу
receipt-payee-missing = Реквізити для оплати уточнюйте в постачальника.
receipt-qr-caption = Відскануйте QR-код камерою телефона або в застосунку свого банку: платіж заповниться сам.
receipt-footer = Рахунок сформовано ботом особистого кабінету за даними постачальника.
# The purpose of the payment in the QR code and on the receipt; always Ukrainian, up to 140 characters.
receipt-purpose = Оплата за електроенергію, рахунок за { $month }, особовий рахунок { $account }

meter-none = До підключених особових рахунків не прив'язано жодного лічильника.
meter-card = Лічильник { $meter } (особовий рахунок { $account })
    Тип: { $type }
    Розрядність: { $digits }
    Зон: { $zones } ({ $names })
    Коефіцієнт трансформації: { $k }
    Встановлено: { $installed }
meter-verification = Наступна повірка: до { $on }
meter-verification-unknown = Дата наступної повірки невідома.
meter-last-reading = Останні показники: { $values }, { $on } ({ $source })
meter-no-readings = Показників ще немає.

## The page GET /payments/liqpay/pay answers when it does not open the card payment page (handlers/payments.py)

pay-link-expired = Це посилання на оплату застаріло. Надішліть /balance у чаті з ботом: там буде нове, із сумою до сплати зараз.
pay-link-paid = За цим посиланням уже сплачено. Що сплатити зараз, покаже /balance у чаті з ботом.
pay-link-broken = Посилання на оплату пошкоджене. Відкрийте його з чату з ботом ще раз або надішліть /balance.
