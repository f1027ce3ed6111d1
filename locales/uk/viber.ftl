## The Viber channel's own sentences, in Ukrainian.

# The bot's name on every message it sends (Viber shows at most 28 characters).
viber-sender-name = Кабінет споживача
viber-share-phone = Надіслати мій номер телефону
viber-photo-too-large = Фото завелике: приймаю до { $megabytes } МБ. Надішліть, будь ласка, менше фото лічильника.
