"""/balance: one amount to pay now, its arithmetic one tap away; receipts offer a QR code only for what is unpaid."""
from __future__ import annotations

from sqlalchemy import event

from tests.support.billing import NEW_ACCOUNT, NEW_SURNAME, import_files, pdf_qr_links, pdf_qr_payload, pdf_text
from tests.support.console import linked

ACCOUNT_HEADER = (
    "account,eic,surname,full_name,address,settlement,street,house,grid_node,consumer_type,tariff_plan,"
    "balance,balance_on\n"
)


def account_row(balance: str, balance_on: str = "2026-11-01") -> str:
    return (f"{NEW_ACCOUNT},,{NEW_SURNAME},Коваль Ганна Іванівна,\"м. Харків, вул. Нова, 1\",Харків,Нова,1,TP-101,"
            f"household,Побутовий,{balance},{balance_on}\n")


async def import_account(database, folder, balance: str, invoices: str, payments: str) -> None:
    """The new account with its balance as of 01.11.2026, invoices (period,issued_on,amount) and payments
    (paid_on,amount), one per line."""
    await import_files(database, folder, {
        "accounts.csv": ACCOUNT_HEADER + account_row(balance),
        "invoices.csv": "account,period,issued_on,due_on,amount,kwh,pdf\n" + "".join(
            f"{NEW_ACCOUNT},{period},{issued},2026-12-20,{amount},100,\n"
            for period, issued, amount in (line.split(",") for line in invoices.split())),
        "payments.csv": "account,paid_on,amount,purpose\n" + "".join(
            f"{NEW_ACCOUNT},{paid},{amount},\n" for paid, amount in (line.split(",") for line in payments.split())),
    })


def document(talk) -> bytes:
    [pdf] = [reply.document.content for reply in talk.replies if reply.document is not None]
    return pdf


async def test_balance_is_the_amount_to_pay_now_with_its_arithmetic_a_tap_away(talk):
    await linked(talk)
    text = await talk.say("/balance")
    # Not the 245,60 owed on 01.11: the October invoice of 03.11 and the payment of 10.11 came after it.
    assert "To pay now: UAH 658.40." in text
    assert "as of" not in text and "245,60" not in text
    assert "Invoice for October 2026: UAH 712.80 for 165 kWh, due by 20.11.2026" in text
    assert talk.buttons[0] == "How is it counted?" and "Balance" in talk.buttons  # the menu stays under it
    text = await talk.say("How is it counted?")
    assert text == (
        "How the amount to pay on account 010000012345 is counted:\n"
        "Owed on 01.11.2026: UAH 245.60\n"
        "Invoice for October 2026 of 03.11.2026: +UAH 712.80\n"
        "Payment of 10.11.2026: \u2212UAH 300.00\n"
        "To pay now: UAH 658.40"
    )
    assert "Balance" in talk.buttons


async def test_balance_in_ukrainian_names_months_in_words(new_talk):
    talk = new_talk("u1", "uk")
    await talk.say("/link 010000012345 Шевченко")
    await talk.say("1")
    text = await talk.say("/balance")
    assert "Особовий рахунок 010000012345" in text and "До сплати зараз: 658,40 грн." in text
    assert "Рахунок за жовтень 2026: 712,80 грн за 165 кВт·год, сплатити до 20.11.2026." in text
    text = await talk.say("Як це пораховано?")
    assert "Борг на 01.11.2026: 245,60 грн" in text
    assert "Рахунок за жовтень 2026 від 03.11.2026: +712,80 грн" in text
    assert "Оплата 10.11.2026: \u2212300,00 грн" in text and "До сплати зараз: 658,40 грн" in text


async def test_overpaid_says_nothing_to_pay_and_the_invoice_is_paid(talk):
    await linked(talk, "1705339110", "Дем'яненко")
    text = await talk.say("/balance")
    assert "Overpaid by UAH 32.48: nothing to pay." in text
    assert "Invoice for October 2026: UAH 587.52 for 256 kWh, paid." in text
    text = await talk.say("How is it counted?")
    assert "Overpaid on 01.11.2026: \u2212UAH 120.00" in text and "+UAH 587.52" in text
    assert "Payment of 05.11.2026: \u2212UAH 500.00" in text and "Overpaid now: UAH 32.48, nothing to pay" in text


async def test_each_account_has_its_own_amount_and_button(talk):
    await linked(talk)
    await linked(talk, "020000054321", "Бондар")
    text = await talk.say("/balance")
    assert "To pay now: UAH 658.40." in text and "To pay now: UAH 36,500.80." in text
    # The first account's own rows (its Pay link, its arithmetic), no menu.
    assert [[b.label for b in row] for row in talk.replies[0].buttons] == [["Pay UAH 658.40"], ["How is it counted?"]]
    text = await talk.press(action="due:3")
    assert "account 020000054321" in text and "Payment of 12.11.2026: \u2212UAH 15,000.00" in text
    assert "no longer active" in await talk.press(action="due:2")  # an account this chat has not linked
    assert "no longer active" in await talk.press(action="due:x")


async def test_invoices_and_payments_of_the_balances_own_day_are_already_in_it(talk, demo_database, tmp_path):
    # The balance as of 01.11 counts that day's invoice and payment; only the payment of 05.11 is added.
    await import_account(demo_database, tmp_path / "x", "100.00",
                         invoices="2026-10,2026-11-01,100.00", payments="2026-11-01,50.00 2026-11-05,40.00")
    await linked(talk, NEW_ACCOUNT, NEW_SURNAME)
    assert "To pay now: UAH 60.00." in await talk.say("/balance")
    text = await talk.say("How is it counted?")
    assert "Invoice for" not in text and "01.11.2026: \u221250,00" not in text
    assert "Payment of 05.11.2026: \u2212UAH 40.00" in text and "To pay now: UAH 60.00" in text
    assert "Invoices and payments of 01.11.2026 are already counted in the amount on that day." in text
    text = await talk.say("/invoices")
    assert "Partly paid, to pay: UAH 60.00." in text
    assert pdf_qr_payload(document(talk))[7] == "UAH60"


async def test_a_qr_code_asks_only_the_unpaid_rest_and_a_paid_invoice_has_none(talk, demo_database, tmp_path):
    # 80 owed on 01.11 (the September invoice's rest) and October's 200 of 03.11 not paid: 280 in all. October's
    # receipt asks its 200, September's the 80 left of it: paying both never pays more than is owed.
    await import_account(demo_database, tmp_path / "x", "80.00",
                         invoices="2026-09,2026-10-03,150.00 2026-10,2026-11-03,200.00", payments="")
    await linked(talk, NEW_ACCOUNT, NEW_SURNAME)
    assert "To pay now: UAH 280.00." in await talk.say("/balance")
    text = await talk.say("/invoices")
    assert "To pay: UAH 200.00." in text and "In all, to pay on the account now: UAH 280.00" in text
    assert pdf_qr_payload(document(talk))[7] == "UAH200"
    text = await talk.say("September 2026")
    assert "Partly paid, to pay: UAH 80.00." in text
    assert pdf_qr_payload(document(talk))[7] == "UAH80"

    # 280 paid on 20.11: both invoices are paid, their receipts say so and offer no QR code.
    await import_files(demo_database, tmp_path / "y",
                       {"payments.csv": f"account,paid_on,amount,purpose\n{NEW_ACCOUNT},2026-11-20,280.00,\n"})
    text = await talk.say("/balance")
    assert "Nothing owed: nothing to pay." in text and "Invoice for October 2026: UAH 200.00 for 100 kWh, paid." in text
    text = await talk.say("/invoices")
    assert "This invoice is paid." in text and "To pay" not in text
    pdf = document(talk)
    assert pdf_qr_links(pdf) == [] and "This invoice is paid" in pdf_text(pdf)
    assert "This invoice is paid." in await talk.say("September 2026")
    assert pdf_qr_links(document(talk)) == []


async def test_balance_reads_nothing_past_the_turns_opening_statement(talk, demo_database, database_url, fast_path):
    if not database_url.startswith("postgresql"):  # only PostgreSQL runs the opening statement past SQLAlchemy
        return
    await linked(talk)
    await linked(talk, "020000054321", "Бондар")
    seen: list[str] = []
    event.listen(demo_database.engine.sync_engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    assert "To pay now: UAH 36,500.80." in await talk.say("/balance")
    # The chat with its step, then the accounts' view: past SQLAlchemy unless the fast path is off.
    assert len(seen) == (0 if fast_path else 2)


def nbu_payload(url: str) -> list[str]:
    """The lines of an NBU payment link (https://bank.gov.ua/qr/ + base64url without padding)."""
    import base64

    assert url.startswith("https://bank.gov.ua/qr/")
    encoded = url.removeprefix("https://bank.gov.ua/qr/")
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8").split("\n")


async def test_a_pay_link_wherever_an_amount_is_due_and_none_when_nothing_is(talk):
    """Issue 19.1 (its first part): a Pay button opening the NBU payment link of the amount owed."""
    await linked(talk)
    await talk.say("/balance")
    [pay] = [b for b in talk.replies[0].all_buttons() if b.url]
    assert pay.label == "Pay UAH 658.40"
    lines = nbu_payload(pay.url)
    assert lines[7] == "UAH658.40" and lines[11] == "Оплата за електроенергію, особовий рахунок 010000012345"
    assert "[link] Pay UAH 658.40: https://bank.gov.ua/qr/" in talk.channel.out.getvalue()
    await talk.say("/invoices")
    [pay] = [b for reply in talk.replies for b in reply.all_buttons() if b.url]
    assert nbu_payload(pay.url)[7] == "UAH658.40"  # October's unpaid part, as its receipt's QR code
    await linked(talk, "1705339110", "Дем'яненко")  # overpaid: nothing to pay, no link
    await talk.say("/balance")
    assert [b.label for reply in talk.replies for b in reply.all_buttons() if b.url] == ["Pay UAH 658.40"]
