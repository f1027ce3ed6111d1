## Kabinet in Telegram: the command menu and what only the Telegram channel says, in English.

telegram-command-start = Start
telegram-command-help = What the bot can do
telegram-command-link = Link a personal account
telegram-command-accounts = My accounts
telegram-command-balance = Balance, payment, invoice, tariff
telegram-command-reading = Submit a meter reading
telegram-command-history = Payment and consumption history
telegram-command-details = The account's personal information
telegram-command-invoices = Monthly invoices as PDF with a payment QR code
telegram-command-meter = My meter and its verification
telegram-command-outages = Outages at my address
telegram-command-service = Order a service
telegram-command-appeal = Write to the call centre
telegram-command-settings = Reminder settings
telegram-command-language = Language
telegram-command-forget = Erase my data
telegram-command-cancel = Cancel what is in progress

telegram-share-phone = 📱 Share my phone number
telegram-or-choose = Or choose:
telegram-photo-too-large = The photo is larger than { $megabytes } MB: Telegram does not let bots download files that big. Send a smaller photo of the meter (as a photo, not as a file).
telegram-command-contacts = The utility's contacts
