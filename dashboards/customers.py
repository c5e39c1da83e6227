"""The customer list, for ``panel serve`` (see README: ``customercard serve`` serves it behind the login)."""

from customercard.app import search_page

search_page().servable()
