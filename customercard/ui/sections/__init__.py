"""The customer card's sections, in the order the card shows them."""

from .base import Section
from .comments import CommentsSection
from .contact import ContactSection, InvoiceAddressSection
from .economy import EconomySection
from .groups import GroupsSection
from .header import HeaderSection
from .invoiced import InvoicedSection
from .people import ContactsSection, ProjectsSection

#: The sections of the card, in order. Files and the CRM sections join with their own issues.
SECTIONS: list[type[Section]] = [
    HeaderSection, ContactSection, InvoiceAddressSection, EconomySection, GroupsSection, CommentsSection,
    ContactsSection, ProjectsSection, InvoicedSection,
]

__all__ = ["SECTIONS", "Section"]
