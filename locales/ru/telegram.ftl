## Kabinet in Telegram: the command menu and what only the Telegram channel says, in Russian.

telegram-command-start = Начать
telegram-command-help = Что умеет бот
telegram-command-link = Подключить лицевой счёт
telegram-command-accounts = Мои лицевые счета
telegram-command-balance = Баланс, платёж, счёт за месяц, тариф
telegram-command-reading = Передать показания счётчика
telegram-command-history = История платежей и потребления
telegram-command-details = Персональная информация лицевого счёта
telegram-command-invoices = Счета за месяцы в PDF с QR-кодом
telegram-command-meter = Мой счётчик и поверка
telegram-command-outages = Отключения по моему адресу
telegram-command-service = Заказать услугу
telegram-command-appeal = Обращение в контакт-центр
telegram-command-settings = Настройки напоминаний
telegram-command-language = Язык
telegram-command-forget = Стереть мои данные
telegram-command-cancel = Отменить текущее действие

telegram-share-phone = 📱 Поделиться номером телефона
telegram-or-choose = Или выберите:
telegram-photo-too-large = Фото больше { $megabytes } МБ: Telegram не позволяет ботам загружать такие файлы. Отправьте фото счётчика поменьше (как фото, а не как файл).
telegram-command-contacts = Контакты компании
