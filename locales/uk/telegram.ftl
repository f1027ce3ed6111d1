## Kabinet in Telegram: the command menu and what only the Telegram channel says, in Ukrainian.

telegram-command-start = Почати
telegram-command-help = Що вміє бот
telegram-command-link = Підключити особовий рахунок
telegram-command-accounts = Мої особові рахунки
telegram-command-balance = Баланс, платіж, рахунок за місяць, тариф
telegram-command-reading = Передати показники лічильника
telegram-command-history = Історія платежів і споживання
telegram-command-details = Персональна інформація особового рахунку
telegram-command-invoices = Рахунки за місяці у PDF з QR-кодом
telegram-command-meter = Мій лічильник і повірка
telegram-command-outages = Відключення за моєю адресою
telegram-command-service = Замовити послугу
telegram-command-appeal = Звернення до контакт-центру
telegram-command-settings = Налаштування нагадувань
telegram-command-language = Мова
telegram-command-forget = Стерти мої дані
telegram-command-cancel = Скасувати поточну дію

telegram-share-phone = 📱 Поділитися номером телефону
telegram-or-choose = Або оберіть:
telegram-photo-too-large = Фото більше за { $megabytes } МБ: Telegram не дозволяє ботам завантажувати такі файли. Надішліть менше фото лічильника (як фото, а не як файл).
telegram-command-contacts = Контакти енергопостачальника
