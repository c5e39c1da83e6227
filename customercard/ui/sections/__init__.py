"""The customer card's sections, in the order the card shows them."""

from .base import Section
from .comments import CommentsSection
from .contact import ContactSection, InvoiceAddressSection
from .crm import EventsSection, OpportunitiesSection, RelationsSection
from .economy import EconomySection
from .files import FilesSection
from .groups import GroupsSection
from .header import HeaderSection
from .invoiced import InvoicedSection
from .people import ContactsSection, ProjectsSection

#: The sections of the card, in order (the seed's order; the CRM module's sections last).
SECTIONS: list[type[Section]] = [
    HeaderSection, ContactSection, InvoiceAddressSection, EconomySection, FilesSection, GroupsSection,
    CommentsSection,
    ContactsSection, ProjectsSection, InvoicedSection, RelationsSection, EventsSection, OpportunitiesSection,
]

__all__ = ["SECTIONS", "Section"]
