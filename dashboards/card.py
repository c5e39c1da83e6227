"""The customer card, ``/card?customer=ID``, for ``panel serve`` with ``--auth-module customercard/bokeh_auth.py``."""

from customercard.app import card_page, process_server

card_page(process_server()).servable()
