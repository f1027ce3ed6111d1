## Kabinet in Telegram: the command menu and what only the Telegram channel says, in Ukrainian.

telegram-command-start = Почати
telegram-command-help = Що вміє бот
telegram-command-link = Прив'язати особовий рахунок
telegram-command-accounts = Мої рахунки
telegram-command-balance = Баланс, оплата, рахунок, тариф
telegram-command-reading = Передати показники лічильника
telegram-command-history = Історія оплат і споживання
telegram-command-invoices = Рахунки у PDF з QR-кодом для оплати
telegram-command-meter = Мій лічильник і повірка
telegram-command-outages = Відключення за моєю адресою
telegram-command-service = Замовити послугу
telegram-command-appeal = Звернення до кол-центру
telegram-command-settings = Налаштування нагадувань
telegram-command-language = Мова
telegram-command-forget = Видалити мої дані
telegram-command-cancel = Скасувати поточну дію

telegram-share-phone = 📱 Поділитися номером телефону
telegram-or-choose = Або оберіть:
telegram-photo-too-large = Фото більше за { $limit } МБ: Telegram не дозволяє ботам завантажувати такі файли. Надішліть менше фото лічильника (як фото, а не як файл).
telegram-command-contacts = Контакти енергопостачальника
