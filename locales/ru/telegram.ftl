## Kabinet in Telegram: the command menu and what only the Telegram channel says, in Russian.

telegram-command-start = Начать
telegram-command-help = Что умеет бот
telegram-command-link = Привязать лицевой счёт
telegram-command-accounts = Мои счета
telegram-command-balance = Баланс, оплата, счёт, тариф
telegram-command-reading = Передать показания счётчика
telegram-command-history = История оплат и потребления
telegram-command-invoices = Счета в PDF с QR-кодом для оплаты
telegram-command-meter = Мой счётчик и поверка
telegram-command-outages = Отключения по моему адресу
telegram-command-service = Заказать услугу
telegram-command-appeal = Обращение в колл-центр
telegram-command-settings = Настройки напоминаний
telegram-command-language = Язык
telegram-command-forget = Удалить мои данные
telegram-command-cancel = Отменить текущее действие

telegram-share-phone = 📱 Поделиться номером телефона
telegram-or-choose = Или выберите:
telegram-photo-too-large = Фото больше { $limit } МБ: Telegram не позволяет ботам загружать такие файлы. Отправьте фото счётчика поменьше (как фото, а не как файл).
telegram-command-contacts = Контакты компании
