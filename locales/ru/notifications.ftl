notice-reading-window = 📅 Завтра, { $opens }, открывается приём показаний счётчика (до { $closes }) по лицевому счёту { $account }. Передайте их командой /reading или фото счётчика.
notice-reading-last-day = ⏰ Сегодня, { $closes }, последний день приёма показаний по лицевому счёту { $account }, а мы их ещё не получили. Передайте их: /reading
notice-invoice = 🧾 Счёт за { $period }, лицевой счёт { $account }: { $amount } за { $kwh } кВт·ч, оплатить до { $due }. PDF с QR-кодом для оплаты: /invoices
notice-debt = ❗ По лицевому счёту { $account } задолженность { $amount }: срок оплаты истёк { $due }.
notice-verification-soon = 🔧 Поверка счётчика { $meter } — до { $on } (осталось дней: { $days }). Закажите её заранее.
notice-verification-expired = ⚠ Срок поверки счётчика { $meter } истёк { $on }. Закажите поверку.
notice-verification-order = Заказать поверку
notice-outage-planned = 🔌 Плановое отключение: с { $starts } до { $ends }. Причина: { $reason }.
notice-outage-emergency = ⚡ Аварийное отключение с { $starts }, ориентировочное восстановление: { $ends }. Причина: { $reason }.
notice-outage-changed-planned = 🔁 Плановое отключение изменено: теперь с { $starts } до { $ends }. Причина: { $reason }.
notice-outage-changed-emergency = 🔁 Аварийное отключение: новые данные. Продолжается с { $starts }, ориентировочное восстановление теперь: { $ends }. Причина: { $reason }.
notice-outage-end-unknown = пока неизвестно
notice-outage-end = ✅ Отключение завершено, питание восстановлено ({ $reason }).
notice-order = 📋 Заявка №{ $order } «{ $service }»: { $status }.
notice-order-confirm = Что дальше: ознакомьтесь с договором (условия, сроки, стоимость) и присоединитесь к нему или откажитесь от услуги — без вашего согласия работу не начнут. Вопросы: /appeal
notice-order-pay = Что дальше: оплатите услугу — сумму и кнопку оплаты покажет заявка. Работу начнут, как только средства поступят (1–3 рабочих дня).
notice-order-pay-button = Оплатить
notice-order-contract = 📎 К заявке №{ $order } «{ $service }» приложен договор. Ознакомьтесь с ним и присоединитесь к договору или откажитесь от услуги.
notice-appeal = Обращение №{ $appeal }: { $status }. { $answer }
notice-account-linked = 🔐 Ваш лицевой счёт { $account } подключён из другого чата через { $channel ->
    [telegram] Telegram
    [viber] Viber
   *[other] { $channel }
} { $at }. Если это были не вы, обратитесь в контакт-центр: /appeal
notice-payment-received = ✅ Оплата { $amount } по лицевому счёту { $account } получена, она появится на лицевом счёте после обработки.
notice-order-payment-received = ✅ Оплата { $amount } по заявке №{ $order } получена. Работу начнут, как только средства поступят энергопоставщику (1–3 рабочих дня).
