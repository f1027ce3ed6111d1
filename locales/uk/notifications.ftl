notice-reading-window = 📅 Завтра, { $opens }, відкривається прийом показників лічильника (до { $closes }) за особовим рахунком { $account }. Передайте їх командою /reading або фото лічильника.
notice-reading-last-day = ⏰ Сьогодні, { $closes }, останній день прийому показників за особовим рахунком { $account }, а ми їх ще не отримали. Передайте їх: /reading
notice-invoice = 🧾 Рахунок за { $period }, особовий рахунок { $account }: { $amount } за { $kwh } кВт·год, сплатити до { $due }. PDF з QR-кодом для оплати: /invoices
notice-debt = ❗ За особовим рахунком { $account } заборгованість { $amount }: строк оплати минув { $due }.
notice-verification-soon = 🔧 Повірка лічильника { $meter } — до { $on } (залишилося днів: { $days }). Замовте її завчасно.
notice-verification-expired = ⚠ Строк повірки лічильника { $meter } минув { $on }. Замовте повірку.
notice-verification-order = Замовити повірку
notice-outage-planned = 🔌 Планове відключення: з { $starts } до { $ends }. Причина: { $reason }.
notice-outage-emergency = ⚡ Аварійне відключення з { $starts }, орієнтовне відновлення: { $ends }. Причина: { $reason }.
notice-outage-changed-planned = 🔁 Планове відключення змінено: тепер з { $starts } до { $ends }. Причина: { $reason }.
notice-outage-changed-emergency = 🔁 Аварійне відключення: нові дані. Триває з { $starts }, орієнтовне відновлення тепер: { $ends }. Причина: { $reason }.
notice-outage-end-unknown = ще невідомо
notice-outage-end = ✅ Відключення завершено, живлення відновлено ({ $reason }).
notice-order = 📋 Заявка №{ $order } «{ $service }»: { $status }.
notice-order-confirm = Що далі: ознайомтеся з договором (умови, строки, вартість) і приєднайтеся до нього або відмовтеся від послуги — без вашої згоди роботу не почнуть. Запитання: /appeal
notice-order-pay = Що далі: оплатіть послугу — суму й кнопку оплати покаже заявка. Роботу почнуть, щойно кошти надійдуть (1–3 робочі дні).
notice-order-pay-button = Оплатити
notice-order-contract = 📎 До заявки №{ $order } «{ $service }» додано договір. Ознайомтеся з ним і приєднайтеся до договору або відмовтеся від послуги.
notice-appeal = Звернення №{ $appeal }: { $status }. { $answer }
notice-account-linked = 🔐 Ваш особовий рахунок { $account } підключено з іншого чату через { $channel ->
    [telegram] Telegram
    [viber] Viber
   *[other] { $channel }
} { $at }. Якщо це були не ви, зверніться до контакт-центру: /appeal
notice-payment-received = ✅ Оплату { $amount } за особовим рахунком { $account } отримано, вона з'явиться на особовому рахунку після обробки.
notice-order-payment-received = ✅ Оплату { $amount } за заявкою №{ $order } отримано. Роботу почнуть, щойно кошти надійдуть енергопостачальнику (1–3 робочі дні).
