"""Flows beyond the foundation's, each in its own module, registered with core.conversation.register.

Importing this package imports them all; core.conversation.Kabinet does so when it is made.
"""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
