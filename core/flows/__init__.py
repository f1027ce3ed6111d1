"""The features of the conversation, one module each; a module declares its commands, steps and buttons as `FLOW`.

`STANDARD_FLOWS` is what a Kabinet serves unless it is given others (core.flows.registry.Registry builds from them).
"""
from core.flows import (
    accounts, appeals, balance, contacts, details, email, forget, history, invoices, linking, meter, outages, photos, readings,
    services, settings, start,
)

STANDARD_FLOWS = tuple(module.FLOW for module in (
    start, linking, accounts, details, balance, history, invoices, meter, readings, photos, outages, services, appeals,
    contacts, settings, email, forget,
))
