"""A contact person's card, ``/contact?contact=ID``, for ``panel serve``."""

from customercard.app import contact_page

contact_page().servable()
