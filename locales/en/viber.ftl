## The Viber channel's own sentences, in English.

# The bot's name on every message it sends (Viber shows at most 28 characters).
viber-sender-name = Consumer cabinet
viber-share-phone = Send my phone number
viber-photo-too-large = The photo is too large: I accept up to { $megabytes } MB. Please send a smaller photo of the meter.
