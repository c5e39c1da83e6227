"""``ProjectPage`` — a small read-only page of one project (for users with projects access)."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from .. import formatting
from ..errors import NotFound
from ..i18n import _
from ..models import Project
from ..store import STORE_TYPES
from .html import SECTION_CSS, esc, fields, link


class ProjectPage(pn.viewable.Viewer):
    """Read-only view of a project and the customer it is for."""

    store = param.ClassSelector(class_=STORE_TYPES, doc="Where the project comes from.")
    project_id = param.Integer(default=None, allow_None=True, doc="The project shown.")
    project = param.ClassSelector(class_=Project, doc="The project, as a param object.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if self.project_id is None:
            raise NotFound("No project given.")
        self.project = self.store.get_project(self.project_id)

    def markup(self) -> str:
        p, store = self.project, self.store
        customer = store.get_customer(p.customer_id)
        pairs = [(_("Customer"), link(f"/card?customer={customer.id}", f"{customer.name} ({customer.number})")),
                 (_("Project number"), esc(p.number)), (_("Status"), esc(_(p.status))),
                 (_("Project manager"), esc(store.user_name(p.manager))),
                 (_("Start"), esc(formatting.date(p.start_date))),
                 (_("End"), esc(formatting.date(p.end_date))),
                 (_("Description"), f'<span class="cc-body">{esc(p.description)}</span>')]
        return f'<h1 class="cc-title" id="cc-project-name">{esc(p.name)}</h1>{fields(pairs)}'

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.pane.HTML(self.markup(), stylesheets=[SECTION_CSS], sizing_mode="stretch_width",
                            css_classes=["cc-project"])
