notice-reading-window = 📅 Tomorrow, { $opens }, the window for meter readings opens (until { $closes }) for account { $account }. Send them with /reading or a photo of the meter.
notice-reading-last-day = ⏰ Today, { $closes }, is the last day to submit the reading for account { $account }, and we have not received it yet. Send it: /reading
notice-invoice = 🧾 The invoice for { $period } for account { $account }: { $amount } for { $kwh } kWh, due by { $due }. PDF with a payment QR code: /invoices
notice-debt = ❗ Account { $account } owes { $amount }: the payment was due on { $due }.
notice-verification-soon = 🔧 Meter { $meter } must be verified by { $on } ({ $days } days left). Order the verification in time.
notice-verification-expired = ⚠ The verification of meter { $meter } expired on { $on }. Order a verification.
notice-verification-order = Order a verification
notice-outage-planned = 🔌 Planned outage: from { $starts } to { $ends }. Reason: { $reason }.
notice-outage-emergency = ⚡ Emergency outage since { $starts }, expected restoration: { $ends }. Reason: { $reason }.
notice-outage-changed-planned = 🔁 Planned outage changed: now from { $starts } to { $ends }. Reason: { $reason }.
notice-outage-changed-emergency = 🔁 Emergency outage update: since { $starts }, expected restoration now: { $ends }. Reason: { $reason }.
notice-outage-end-unknown = not known yet
notice-outage-end = ✅ The outage is over, power is restored ({ $reason }).
notice-order = 📋 Order No. { $order } “{ $service }”: { $status }.
notice-order-confirm = What next: read the contract (terms, dates, price) and accept it or decline the service — work starts only with your consent. Questions: /appeal
notice-order-pay = What next: pay for the service — the order shows the amount and a button to pay. Work starts once the money arrives (1–3 working days).
notice-order-pay-button = Pay
notice-order-contract = 📎 The contract for order No. { $order } “{ $service }” is attached. Read it, then accept the contract or decline the service.
notice-appeal = Appeal No. { $appeal }: { $status }. { $answer }
notice-account-linked = 🔐 Your personal account { $account } was linked from another chat via { $channel ->
    [telegram] Telegram
    [viber] Viber
   *[other] { $channel }
} at { $at }. If this was not you, contact the call centre: /appeal
notice-payment-received = ✅ Payment of { $amount } for account { $account } received; it will appear on the account after processing.
notice-order-payment-received = ✅ Payment of { $amount } for order No. { $order } received. Work starts once the money reaches the utility (1–3 working days).
