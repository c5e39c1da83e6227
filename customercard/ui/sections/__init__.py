"""The customer card's sections, in the order the card shows them."""

from .activity import ActivitySection
from .asof import AsOfSection
from .base import Section
from .comments import CommentsSection
from .contact import ContactSection, InvoiceAddressSection
from .crm import EventsSection, OpportunitiesSection, RelationsSection
from .economy import EconomySection
from .files import FilesSection
from .follow_ups import FollowUpsSection
from .groups import GroupsSection
from .header import HeaderSection
from .invoiced import InvoicedSection
from .people import ContactsSection, ProjectsSection

#: The sections of the card, in order (the seed's order, the Activity timeline after the comments; the CRM module's
#: sections last). The banner of a card as of a past day comes first, on such a card only.
SECTIONS: list[type[Section]] = [
    AsOfSection, HeaderSection, ContactSection, InvoiceAddressSection, EconomySection, FilesSection, GroupsSection,
    CommentsSection, ActivitySection, FollowUpsSection,
    ContactsSection, ProjectsSection, InvoicedSection, RelationsSection, EventsSection, OpportunitiesSection,
]

__all__ = ["SECTIONS", "Section"]
