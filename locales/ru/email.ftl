## ===== E-mail (issue 19.3): the address in /settings, its confirmation code, invoices and notices by e-mail =====
## handlers/email.py sends; core/email_address.py checks the address and the code.

## --- the e-mails

email-code-subject = Код подтверждения e-mail для личного кабинета
email-code-body =
    Здравствуйте!

    Ваш код подтверждения: { $code }

    Введите его в чате с ботом личного кабинета. Код действует { $minutes } мин.
    Если вы не указывали этот адрес, просто проигнорируйте это письмо: без кода он не будет добавлен.
email-invoice-subject = Счёт за { $month }, лицевой счёт { $account }
email-invoice-body =
    Здравствуйте!

    Счёт за { $month }, лицевой счёт { $account }: { $amount } за { $kwh } кВт·ч, оплатить до { $due }.
    Счёт в PDF — во вложении.
email-notice-subject = Сообщение личного кабинета
email-subject-debt = Задолженность по лицевому счёту { $subject }
email-subject-reading = Время передать показания, лицевой счёт { $subject }
email-subject-verification = Поверка счётчика
email-subject-outages = Отключение электроэнергии
email-subject-orders = Заявка №{ $subject }: изменение статуса
email-footer =
    —
    Вы получаете это письмо, потому что указали этот адрес в настройках бота (/settings). Изменить или удалить его можно там же.

## --- the chat: the address

email-settings-button = E-mail: { $address }
email-settings-none = не указан
email-ask = Введите адрес электронной почты (e-mail), например olena.koval@ukr.net. Мы отправим на него код подтверждения.
email-bad-empty = Вы не ввели адрес. Введите e-mail, например olena.koval@ukr.net.
email-bad-spaces = В адресе e-mail не бывает пробелов. Проверьте его и введите ещё раз.
email-bad-no-at = Это не похоже на e-mail: нужны имя ящика, знак @ и домен, например olena.koval@ukr.net.
email-bad-name = Имя ящика (до знака @) может содержать только латинские буквы, цифры и знаки . _ - + и не может начинаться или заканчиваться точкой.
email-bad-domain = Домен после знака @ неправильный. Проверьте, например: ukr.net, gmail.com.
email-bad-too-long = Адрес слишком длинный (больше 254 символов). Введите другой.
email-code-sent = Мы отправили код подтверждения на { $address }. Введите 6 цифр из письма (код действует { $minutes } мин). Письма нет? Проверьте папку «Спам».
email-code-not-a-code = Код — это 6 цифр из письма. Введите их или нажмите «Отправить новый код».
email-code-wrong = Код неправильный. Осталось попыток: { $tries }.
email-code-spent = Попытки исчерпаны. Запросите новый код.
email-code-expired = Срок действия кода истёк. Запросите новый код.
email-code-again-button = Отправить новый код
email-code-limit-chat = Слишком много кодов за час. Новый можно будет запросить в { $at }.
email-code-limit-address = На этот адрес сегодня уже отправлено слишком много кодов. Новый можно будет запросить { $at }.
email-send-failed = Не удалось отправить письмо на { $address }. Попробуйте, пожалуйста, позже.
email-confirmed = Адрес { $address } подтверждён. Счета за месяц (с PDF) будут приходить и на него.
email-settings-refused = E-mail: { $address } ⚠
email-refused-menu = Почтовый сервер не принимает писем на { $address }, поэтому мы их туда не отправляем. Измените адрес или удалите его.
email-change-button = Изменить e-mail
email-remove-button = Удалить e-mail
email-removed = Адрес { $address } удалён: писем на него больше не будет.
email-refused = Почтовый сервер не принимает письма на { $address }. Проверьте адрес и введите его снова.

## --- the chat: what goes by e-mail

email-notices-ask = Что отправлять также на { $address }? Нажмите, чтобы включить или выключить.
email-notices-button = Что отправлять на e-mail
email-notice-on = «{ $name }» будем присылать и на e-mail.
email-notice-off = «{ $name }» на e-mail больше присылать не будем.
email-notice-invoice = Счета за месяц (с PDF)
email-notice-debt = Напоминания о долге
email-notice-reading = Период подачи показаний
email-notice-verification = Поверка счётчика
email-notice-outages = Отключения
email-notice-orders = Статус заявок
email-notice-switch = { $on ->
    [yes] ✅ { $name }
   *[no] ⬜ { $name }
}

## --- the chat: paper invoice

email-paper-ask = Присылать ли бумажный счёт по почте по лицевому счёту { $account }?
email-paper-yes = Да, бумажный тоже
email-paper-no = Нет, только электронный
email-paper-recorded-yes = Записано: по лицевому счёту { $account } бумажный счёт будет приходить и дальше.
email-paper-recorded-no = Записано: по лицевому счёту { $account } бумажный счёт больше не будут присылать. Счета за месяц будут приходить в чат и на e-mail.
