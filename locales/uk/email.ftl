## ===== E-mail (issue 19.3): the address in /settings, its confirmation code, invoices and notices by e-mail =====
## handlers/email.py sends; core/email_address.py checks the address and the code.

## --- the e-mails

email-code-subject = Код підтвердження e-mail для особистого кабінету
email-code-body =
    Добрий день!

    Ваш код підтвердження: { $code }

    Введіть його в чаті з ботом особистого кабінету. Код діє { $minutes } хв.
    Якщо ви не вказували цю адресу, просто проігноруйте цей лист: без коду її не буде додано.
email-invoice-subject = Рахунок за { $month }, особовий рахунок { $account }
email-invoice-body =
    Добрий день!

    Рахунок за { $month }, особовий рахунок { $account }: { $amount } за { $kwh } кВт·год, сплатити до { $due }.
    Рахунок у PDF — у вкладенні.
email-notice-subject = Повідомлення особистого кабінету
email-subject-debt = Заборгованість за особовим рахунком { $subject }
email-subject-reading = Час передати показники, особовий рахунок { $subject }
email-subject-verification = Повірка лічильника
email-subject-outages = Відключення електроенергії
email-subject-orders = Заявка №{ $subject }: зміна статусу
email-footer =
    —
    Ви отримуєте цей лист, бо вказали цю адресу в налаштуваннях бота (/settings). Змінити чи видалити її можна там само.

## --- the chat: the address

email-settings-button = E-mail: { $address }
email-settings-none = не вказано
email-ask = Введіть адресу електронної пошти (e-mail), наприклад olena.koval@ukr.net. Ми надішлемо на неї код підтвердження.
email-bad-empty = Ви не ввели адресу. Введіть e-mail, наприклад olena.koval@ukr.net.
email-bad-spaces = В адресі e-mail не буває пробілів. Перевірте її та введіть ще раз.
email-bad-no-at = Це не схоже на e-mail: потрібні ім’я скриньки, знак @ і домен, наприклад olena.koval@ukr.net.
email-bad-name = Ім’я скриньки (до знака @) може містити лише латинські літери, цифри та знаки . _ - + і не може починатися чи закінчуватися крапкою.
email-bad-domain = Домен після знака @ неправильний. Перевірте, наприклад: ukr.net, gmail.com.
email-bad-too-long = Адреса задовга (понад 254 символи). Введіть іншу.
email-code-sent = Ми надіслали код підтвердження на { $address }. Введіть 6 цифр із листа (код діє { $minutes } хв). Листа немає? Перевірте папку «Спам».
email-code-not-a-code = Код — це 6 цифр із листа. Введіть їх або натисніть «Надіслати новий код».
email-code-wrong = Код неправильний. Залишилося спроб: { $tries }.
email-code-spent = Спроби вичерпано. Попросіть новий код.
email-code-expired = Строк дії коду минув. Попросіть новий код.
email-code-again-button = Надіслати новий код
email-code-limit-chat = Забагато кодів за годину. Новий можна буде попросити о { $at }.
email-code-limit-address = На цю адресу сьогодні вже надіслано забагато кодів. Новий можна буде попросити { $at }.
email-send-failed = Не вдалося надіслати лист на { $address }. Спробуйте, будь ласка, пізніше.
email-confirmed = Адресу { $address } підтверджено. Рахунки за місяць (з PDF) надходитимуть і на неї.
email-settings-refused = E-mail: { $address } ⚠
email-refused-menu = Поштовий сервер не приймає листів на { $address }, тому ми їх туди не надсилаємо. Змініть адресу або видаліть її.
email-change-button = Змінити e-mail
email-remove-button = Видалити e-mail
email-removed = Адресу { $address } видалено: листів на неї більше не надсилатимемо.
email-refused = Поштовий сервер не приймає листів на { $address }. Перевірте адресу та введіть її знову.

## --- the chat: what goes by e-mail

email-notices-ask = Що надсилати також на { $address }? Натисніть, щоб увімкнути чи вимкнути.
email-notices-button = Що надсилати на e-mail
email-notice-on = «{ $name }» надсилатимемо й на e-mail.
email-notice-off = «{ $name }» на e-mail більше не надсилатимемо.
email-notice-invoice = Рахунки за місяць (з PDF)
email-notice-debt = Нагадування про борг
email-notice-reading = Період подачі показників
email-notice-verification = Повірка лічильника
email-notice-outages = Відключення
email-notice-orders = Статус заявок
email-notice-switch = { $on ->
    [yes] ✅ { $name }
   *[no] ⬜ { $name }
}

## --- the chat: paper invoice

email-paper-ask = Надсилати вам паперовий рахунок поштою за особовим рахунком { $account }?
email-paper-yes = Так, паперовий теж
email-paper-no = Ні, лише електронний
email-paper-recorded-yes = Записано: за особовим рахунком { $account } паперовий рахунок надходитиме й надалі.
email-paper-recorded-no = Записано: за особовим рахунком { $account } паперовий рахунок більше не надсилатимуть. Рахунки за місяць надходитимуть у чат і на e-mail.
