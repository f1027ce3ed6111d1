## Отключения, услуги, обращения и настройки (core/flows/outages.py, services.py, appeals.py, settings.py).

outages-account = Лицевой счёт { $account }, { $address }:
outage-line = { $kind ->
        [planned] 🔧 Плановое отключение
       *[emergency] ⚡ Аварийное отключение
    } { $started ->
        [yes] с { $starts } (продолжается)
       *[no] с { $starts }
    }
    Ожидаемое восстановление: { $ends }
    Причина: { $reason }
outage-end-unknown = пока неизвестно
outages-none = { $count ->
    [one] По вашему адресу нет текущих или запланированных отключений.
   *[other] По адресам ваших лицевых счетов нет текущих или запланированных отключений.
}

service-name-meter-noise = Шум в электросчётчике
service-name-meter-check = Внеочередная техническая проверка счётчика
service-name-reconciliation-act = Акт сверки взаиморасчётов
service-name-charges-statement = Ведомость начислений и оплат
service-name-reconnection = Повторное подключение электроустановки
service-name-meter-repair = Ремонт или замена счётчика
service-name-control-reading = Контрольные показания для перерасчёта
service-name-meter-verification = Поверка счётчика
service-name-commission-documents = Передача документов на комиссию (несогласие с суммой долга или начислений)
service-name-multifunction-meter = Установка многофункционального счётчика
service-attach-reconnection = скан чека об оплате долга, если электроэнергию отключили из-за задолженности
order-status-sent = Отправлена
order-status-accepted = Принята к рассмотрению
order-status-awaiting_confirmation = Ожидает подтверждения
order-status-awaiting_payment = Ожидает оплаты
order-status-in_progress = В работе
order-status-done = Выполнена
order-status-cancelled = Отменена

service-choose = Какую услугу заказать? Возле каждой указано, бесплатная она или платная.
service-button = { $name } · { $price ->
        [paid] платная
        [priced] { $amount }
       *[free] бесплатная
    }
service-unknown = Такой услуги нет. Выберите из списка:
orders-button = Мои заявки
service-order-button = Заказать услугу
service-account-button = { $account } — { $address }
service-ask-account = Для какого лицевого счёта?
service-ask-phone = { $service }. Введите контактный номер телефона (например, 0501234567 или +380501234567) или поделитесь контактом.
service-phone-bad = Это не украинский номер телефона. Введите 10 цифр, начиная с 0 (например, 0501234567), или +380 и 9 цифр.
service-ask-comment = Добавьте комментарий для специалиста (до { $limit } символов) или пропустите.
service-skip-comment = Пропустить
service-comment-too-long = Комментарий слишком длинный: до { $limit } символов, пожалуйста. Сократите его или пропустите.
service-ordered = Заявка №{ $number } отправлена: «{ $service }», лицевой счёт { $account }, телефон { $phone }. Статус: { $status }. Я сообщу, когда он изменится.
orders-none = У вас ещё нет заявок на услуги.
orders-list = Ваши заявки:
    { $orders }
orders-line = №{ $number } { $service } — { $status } ({ $on })
order-open = Заявка №{ $number }
order-unknown = Такой заявки нет среди заявок ваших лицевых счетов.
order-details = Заявка №{ $number }: { $service }
    Лицевой счёт: { $account }
    Статус: { $status }
    Телефон: { $phone }
order-comment = Комментарий: { $comment }
order-history = История обработки:
order-history-line = • { $at } — { $status }
order-history-line-comment = • { $at } — { $status }: { $comment }
order-cancel = Отменить заявку
order-cancel-ask = Отменить заявку №{ $number } «{ $service }»?
order-cancel-yes = Да, отменить
order-cancel-no = Нет, оставить
order-cancelled = Заявка №{ $number } отменена.
order-cancel-done = Заявка №{ $number } уже выполнена; выполненную заявку отменить нельзя.
order-cancel-already = Заявка №{ $number } уже отменена.
order-cancel-not-here = Заявку №{ $number } может отменить только чат, из которого она подана.
order-confirm-ask = Ознакомьтесь с договором и присоединитесь к нему, чтобы заявку выполнили, или откажитесь от услуги.
order-accept = Присоединиться к договору
order-decline = Отказаться от услуги
order-accepted = Вы присоединились к договору. Заявка №{ $number }: { $status }.
order-declined = Вы отказались от услуги. Заявка №{ $number } отменена.
order-confirm-not-here = Договор по заявке №{ $number } может принять только чат, из которого её подали.
order-confirm-late = Заявка №{ $number } уже не ожидает подтверждения. Статус: { $status }.
order-to-pay = К оплате: { $amount }. Работу начнут, как только средства поступят энергопоставщику (1–3 рабочих дня).
order-files = Ваших файлов в заявке: { $count }
order-attach-button = Добавить файл
order-attach-anything = фото или скан нужных документов
order-attach-ask = Заявка №{ $number }: добавьте { $what }. Отправьте фото или PDF-файл (до { $limit } МБ каждый); когда всё отправлено, нажмите «Готово».
order-attach-done = Готово
order-attach-waiting = Отправьте фото или PDF-файл или нажмите «Готово».
order-attach-added = Файл добавлен к заявке №{ $number } (всего: { $count }). Отправьте ещё или нажмите «Готово».
order-attach-finished = Файлов в заявке №{ $number }: { $count }. Специалист их увидит.
order-attach-too-large = Файл слишком большой: до { $limit } МБ, пожалуйста. Отправьте меньший или нажмите «Готово».
order-attach-bad-type = Принимаю только фото (JPEG, PNG) или PDF-файл. Отправьте такой или нажмите «Готово».
order-attach-too-many = К заявке №{ $number } уже добавлено { $limit } файлов, больше нельзя. Нажмите «Готово».
order-attach-closed = К заявке №{ $number } файлы уже не добавить: она выполнена или отменена.

appeal-kind-invoice = Непонятный счёт за месяц
appeal-kind-no-power = Нет электроэнергии
appeal-kind-meter = Счётчик
appeal-kind-bot = Бот работает не так, как надо
appeal-kind-other = Другое
appeal-status-new = Новое
appeal-status-in_progress = В работе
appeal-status-answered = Дан ответ
appeal-status-closed = Закрыто
appeals-button = Мои обращения
appeal-write = Написать обращение
appeal-choose-kind = Выберите тип обращения в контакт-центр:
appeal-ask-account = Какого лицевого счёта касается обращение?
appeal-ask-text = { $kind }. Опишите вопрос одним сообщением (до { $limit } символов).
appeal-turns-note = К обращению добавим ваши последние сообщения в этом чате и ответы бота за { $days } дней (без фото, фамилии владельца и кодов подтверждения), чтобы оператор увидел, что пошло не так.
appeal-text-empty = В обращении нет текста. Опишите вопрос словами.
appeal-text-too-long = Обращение слишком длинное ({ $length } символов), можно до { $limit }. Сократите его и отправьте ещё раз.
appeal-sent = Обращение №{ $number } отправлено в контакт-центр: «{ $kind }», лицевой счёт { $account }. Статус: { $status }. Ответ появится в разделе «Мои обращения».
appeal-turns-attached = К обращению добавлено сообщений из этого чата: { $count }.
appeals-none = Вы ещё не писали обращений.
appeals-list = Ваши обращения:

    { $appeals }
appeals-item = №{ $number } от { $on }, { $kind } — { $status }
    { $text }
appeals-answer = Ответ: { $answer }
appeal-unlinked = К этому чату ещё не подключён лицевой счёт. Без него можно отправить только обращение «{ $kind }» — например, если не получается подключить счёт. Остальные обращения — после подключения.
appeal-sent-unlinked = Обращение №{ $number } отправлено в контакт-центр: «{ $kind }». Статус: { $status }. Ответ придёт в этот чат и появится в разделе «Мои обращения».
appeal-unlinked-too-many = Без подключённого лицевого счёта из чата можно отправить не больше { $limit } обращений в сутки. Следующее можно будет отправить после { $time }.
appeal-private-only = Обращение без подключённого лицевого счёта можно отправить только в личном чате с ботом, не в группе или канале.

settings-summary = Настройки. Нажмите напоминание, чтобы включить или выключить его. Тихие часы: { $quiet } (напоминания ждут их окончания).
settings-saved = Сохранено. Тихие часы: { $quiet }.
settings-reminder-on = Напоминания «{ $name }» включены.
settings-reminder-off = Напоминания «{ $name }» выключены: мы не будем их присылать, пока вы не включите их снова.
settings-language-button = Язык: { $name }
settings-switch = { $on ->
        [yes] ✅
       *[no] ⬜
    } { $name }
settings-reminder-invoice = Счета за месяц и долг
settings-reminder-reading = Период подачи показаний
settings-reminder-verification = Поверка счётчика
settings-reminder-outages = Отключения
settings-reminder-orders = Статус заявок
settings-quiet-button = Тихие часы: { $quiet }
settings-quiet-off = выключены
settings-quiet-range = { $start }–{ $end }
settings-quiet-ask = Введите тихие часы, например 22-8 или 22:00-08:00: в это время напоминания не приходят.
settings-quiet-bad = Это не промежуток времени. Введите, например, 22-8 или 23:30-07:00 (часы 0–23, начало и конец разные).
settings-quiet-turn-off = Выключить тихие часы

contacts-list = Как связаться с энергоснабжающей компанией:
    { $contacts }
contacts-none = Контакты энергоснабжающей компании ещё не загружены. Напишите нам через /appeal.
contact-line = { $kind ->
        [emergency] ⚡
        [email] ✉
        [website] 🌐
        [office] 🏢
       *[call-centre] ☎
    } { $label }: { $value }{ $hours }
contact-hours = { " " }({ $hours })
contact-emergency = ⚡ Аварийная служба (круглосуточно): { $phones }
