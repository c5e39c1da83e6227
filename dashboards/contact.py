"""A contact person's card, ``/contact?contact=ID``, for ``panel serve``."""

from customercard.app import contact_page, process_server

contact_page(process_server()).servable()
