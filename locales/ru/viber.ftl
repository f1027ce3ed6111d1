## The Viber channel's own sentences, in Russian.

# The bot's name on every message it sends (Viber shows at most 28 characters).
viber-sender-name = Кабинет потребителя
viber-share-phone = Отправить мой номер телефона
viber-photo-too-large = Фото слишком большое: принимаю до { $megabytes } МБ. Пожалуйста, отправьте фото счётчика поменьше.
