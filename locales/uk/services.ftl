## Відключення, послуги, звернення та налаштування (core/flows/outages.py, services.py, appeals.py, settings.py).

outages-account = Особовий рахунок { $account }, { $address }:
outage-line = { $kind ->
        [planned] 🔧 Планове відключення
       *[emergency] ⚡ Аварійне відключення
    } { $started ->
        [yes] з { $starts } (триває)
       *[no] з { $starts }
    }
    Очікуване відновлення: { $ends }
    Причина: { $reason }
outage-end-unknown = поки невідомо
outages-none = { $count ->
    [one] За вашою адресою немає поточних чи запланованих відключень.
   *[other] За адресами ваших особових рахунків немає поточних чи запланованих відключень.
}

service-name-meter-noise = Шум у електролічильнику
service-name-meter-check = Позачергова технічна перевірка лічильника
service-name-reconciliation-act = Акт звіряння взаєморозрахунків
service-name-charges-statement = Відомість нарахувань та оплат
service-name-reconnection = Повторне підключення електроустановки
service-name-meter-repair = Ремонт або заміна лічильника
service-name-control-reading = Контрольні показники для перерахунку
service-name-meter-verification = Повірка лічильника
service-name-commission-documents = Передача документів на комісію (незгода з сумою боргу чи нарахувань)
service-name-multifunction-meter = Встановлення багатофункціонального лічильника
service-attach-reconnection = скан чека про оплату боргу, якщо електроенергію відключили через заборгованість
order-status-sent = Надіслана
order-status-accepted = Прийнята до розгляду
order-status-awaiting_confirmation = Очікує підтвердження
order-status-awaiting_payment = Очікує оплати
order-status-in_progress = У роботі
order-status-done = Виконана
order-status-cancelled = Скасована

service-choose = Яку послугу замовити? Біля кожної написано, безкоштовна вона чи платна.
service-button = { $name } · { $price ->
        [paid] платна
        [priced] { $amount }
       *[free] безкоштовна
    }
service-unknown = Такої послуги немає. Оберіть зі списку:
orders-button = Мої заявки
service-order-button = Замовити послугу
service-account-button = { $account } — { $address }
service-ask-account = Для якого особового рахунку?
service-ask-phone = { $service }. Введіть контактний номер телефону (наприклад, 0501234567 або +380501234567) або поділіться контактом.
service-phone-bad = Це не український номер телефону. Введіть 10 цифр, що починаються з 0 (наприклад, 0501234567), або +380 і 9 цифр.
service-ask-comment = Додайте коментар для фахівця (до { $limit } символів) або пропустіть.
service-skip-comment = Пропустити
service-comment-too-long = Коментар задовгий: до { $limit } символів, будь ласка. Скоротіть його або пропустіть.
service-ordered = Заявку №{ $number } надіслано: «{ $service }», особовий рахунок { $account }, телефон { $phone }. Статус: { $status }. Я повідомлю, коли він зміниться.
orders-none = У вас ще немає заявок на послуги.
orders-list = Ваші заявки:
    { $orders }
orders-line = №{ $number } { $service } — { $status } ({ $on })
order-open = Заявка №{ $number }
order-unknown = Такої заявки немає серед заявок ваших особових рахунків.
order-details = Заявка №{ $number }: { $service }
    Особовий рахунок: { $account }
    Статус: { $status }
    Телефон: { $phone }
order-comment = Коментар: { $comment }
order-history = Історія обробки:
order-history-line = • { $at } — { $status }
order-history-line-comment = • { $at } — { $status }: { $comment }
order-cancel = Скасувати заявку
order-cancel-ask = Скасувати заявку №{ $number } «{ $service }»?
order-cancel-yes = Так, скасувати
order-cancel-no = Ні, залишити
order-cancelled = Заявку №{ $number } скасовано.
order-cancel-done = Заявку №{ $number } вже виконано; виконану заявку скасувати не можна.
order-cancel-already = Заявку №{ $number } вже скасовано.
order-cancel-not-here = Заявку №{ $number } може скасувати лише чат, з якого її подано.
order-confirm-ask = Ознайомтеся з договором і приєднайтеся до нього, щоб заявку виконали, або відмовтеся від послуги.
order-accept = Приєднатися до договору
order-decline = Відмовитися від послуги
order-accepted = Ви приєдналися до договору. Заявка №{ $number }: { $status }.
order-declined = Ви відмовилися від послуги. Заявку №{ $number } скасовано.
order-confirm-not-here = Договір за заявкою №{ $number } може прийняти лише чат, з якого її подано.
order-confirm-late = Заявка №{ $number } уже не очікує підтвердження. Статус: { $status }.
order-to-pay = До сплати: { $amount }. Роботу почнуть, щойно кошти надійдуть енергопостачальнику (1–3 робочі дні).
order-files = Ваших файлів у заявці: { $count }
order-attach-button = Додати файл
order-attach-anything = фото чи скан потрібних документів
order-attach-ask = Заявка №{ $number }: додайте { $what }. Надішліть фото або PDF-файл (до { $limit } МБ кожен); коли все надіслано, натисніть «Готово».
order-attach-done = Готово
order-attach-waiting = Надішліть фото або PDF-файл або натисніть «Готово».
order-attach-added = Файл додано до заявки №{ $number } (усього: { $count }). Надішліть ще або натисніть «Готово».
order-attach-finished = Файлів у заявці №{ $number }: { $count }. Фахівець їх побачить.
order-attach-too-large = Файл завеликий: до { $limit } МБ, будь ласка. Надішліть менший або натисніть «Готово».
order-attach-bad-type = Приймаю лише фото (JPEG, PNG) або PDF-файл. Надішліть такий або натисніть «Готово».
order-attach-too-many = До заявки №{ $number } уже додано { $limit } файлів, більше не можна. Натисніть «Готово».
order-attach-closed = До заявки №{ $number } файли вже не додати: її виконано або скасовано.

appeal-kind-invoice = Незрозумілий рахунок за місяць
appeal-kind-no-power = Відсутня електроенергія
appeal-kind-meter = Лічильник
appeal-kind-bot = Бот працює не так, як треба
appeal-kind-other = Інше
appeal-status-new = Нове
appeal-status-in_progress = У роботі
appeal-status-answered = Надано відповідь
appeal-status-closed = Закрите
appeals-button = Мої звернення
appeal-write = Написати звернення
appeal-choose-kind = Оберіть тип звернення до контакт-центру:
appeal-ask-account = Якого особового рахунку стосується звернення?
appeal-ask-text = { $kind }. Опишіть питання одним повідомленням (до { $limit } символів).
appeal-turns-note = До звернення додамо ваші останні повідомлення в цьому чаті й відповіді бота за { $days } днів (без фото, прізвища власника та кодів підтвердження), щоб оператор побачив, що пішло не так.
appeal-text-empty = У зверненні немає тексту. Опишіть питання словами.
appeal-text-too-long = Звернення задовге ({ $length } символів), можна до { $limit }. Скоротіть його і надішліть ще раз.
appeal-sent = Звернення №{ $number } надіслано до контакт-центру: «{ $kind }», особовий рахунок { $account }. Статус: { $status }. Відповідь з'явиться в розділі «Мої звернення».
appeal-turns-attached = До звернення додано повідомлень із цього чату: { $count }.
appeals-none = Ви ще не писали звернень.
appeals-list = Ваші звернення:

    { $appeals }
appeals-item = №{ $number } від { $on }, { $kind } — { $status }
    { $text }
appeals-answer = Відповідь: { $answer }
appeal-unlinked = До цього чату ще не підключено особового рахунку. Без нього можна надіслати лише звернення «{ $kind }» — наприклад, якщо не вдається підключити рахунок. Інші звернення — після підключення.
appeal-sent-unlinked = Звернення №{ $number } надіслано до контакт-центру: «{ $kind }». Статус: { $status }. Відповідь надійде в цей чат і з'явиться в розділі «Мої звернення».
appeal-unlinked-too-many = Без підключеного особового рахунку з чату можна надіслати не більше { $limit } звернень на добу. Наступне можна буде надіслати після { $time }.
appeal-private-only = Звернення без підключеного особового рахунку можна надіслати лише в особистому чаті з ботом, не в групі чи каналі.

settings-summary = Налаштування. Натисніть нагадування, щоб увімкнути чи вимкнути його. Тихі години: { $quiet } (нагадування чекають до їх кінця).
settings-saved = Збережено. Тихі години: { $quiet }.
settings-reminder-on = Нагадування «{ $name }» увімкнено.
settings-reminder-off = Нагадування «{ $name }» вимкнено: їх більше не надсилатимемо, доки ви не увімкнете їх знову.
settings-language-button = Мова: { $name }
settings-switch = { $on ->
        [yes] ✅
       *[no] ⬜
    } { $name }
settings-reminder-invoice = Рахунки за місяць і борг
settings-reminder-reading = Період подачі показників
settings-reminder-verification = Повірка лічильника
settings-reminder-outages = Відключення
settings-reminder-orders = Статус заявок
settings-quiet-button = Тихі години: { $quiet }
settings-quiet-off = вимкнено
settings-quiet-range = { $start }–{ $end }
settings-quiet-ask = Введіть тихі години, наприклад 22-8 або 22:00-08:00: у цей час нагадування не надходять.
settings-quiet-bad = Це не проміжок часу. Введіть, наприклад, 22-8 або 23:30-07:00 (години 0–23, початок і кінець різні).
settings-quiet-turn-off = Вимкнути тихі години

contacts-list = Як зв'язатися з енергопостачальником:
    { $contacts }
contacts-none = Контакти енергопостачальника ще не завантажено. Напишіть нам через /appeal.
contact-line = { $kind ->
        [emergency] ⚡
        [email] ✉
        [website] 🌐
        [office] 🏢
       *[call-centre] ☎
    } { $label }: { $value }{ $hours }
contact-hours = { " " }({ $hours })
contact-emergency = ⚡ Аварійна служба (цілодобово): { $phones }
