"""The customer list, for ``panel serve`` (see README: ``customercard serve`` serves it behind the login)."""

from customercard.app import process_server, search_page

search_page(process_server()).servable()
