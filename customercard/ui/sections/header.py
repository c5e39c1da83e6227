"""Section 1 — the header: name, number, nickname, account manager, industry, status, last update."""

from __future__ import annotations

from typing import Any

from ... import formatting
from ...errors import NotFound
from ...fields import section_fields
from ...i18n import N_, _
from ..html import esc, fields
from .base import Section


class HeaderSection(Section):
    key = "header"
    title = N_("Customer")
    #: Every field the header may edit; the nickname only while the firm has nicknames on (see edit_fields).
    header_fields = section_fields("header")

    @property
    def edit_fields(self) -> tuple[str, ...]:  # (as the settings stand now: an administrator may switch them)
        return self.header_fields if self.nicknames else tuple(f for f in self.header_fields if f != "nickname")

    @property
    def nicknames(self) -> bool:
        return self.context.settings.nicknames_enabled

    def markup(self) -> str:
        c, store, zone = self.context.customer, self.context.store, self.context.zone
        badges = [f'<span class="cc-badge">{esc(c.status)}</span>' if c.status else ""]
        if c.archived:
            badges.append(f'<span class="cc-badge off">{esc(_("Archived"))}</span>')
        if c.merged_into:
            badges.append(f'<span class="cc-badge off cc-merged-into">{self.merged_into_html(int(c.merged_into))}'
                          '</span>')
        pairs = [(_("Customer number"), esc(c.number))]
        if self.nicknames:
            pairs.append((_("Nickname"), esc(c.nickname)))
        pairs += [(_("Account manager"), esc(store.user_name(c.account_manager))),
                  (_("Industry"), esc(c.industry)), (_("Status"), esc(c.status))]
        updated = _("Last updated by {who} on {when}").format(
            who=store.user_name(c.updated_by), when=formatting.datetime(c.updated_at, zone))
        return (f'<h1 class="cc-title" id="cc-customer-name">{esc(c.name)}</h1>'
                f'<div class="cc-sub">{"".join(badges)}</div>{fields(pairs)}'
                f'<p class="cc-meta" id="cc-last-updated">{esc(updated)}</p>')

    def editing_html(self) -> str:
        """The customer's name stays the page's heading for screen readers while the header is edited."""
        return f'<h1 class="cc-sr-only">{esc(self.context.customer.name)}</h1>'

    def merged_into_html(self, survivor_id: int) -> str:
        """'Merged into customer 10008 — Name', linked to the survivor's card."""
        try:
            survivor = self.context.store.get_customer(survivor_id)
        except NotFound:
            return esc(_("Merged into a customer that no longer exists"))
        text = _("Merged into customer {number} — {name}").format(number=survivor.number, name=survivor.name)
        return f'<a href="/card?customer={survivor_id}">{esc(text)}</a>'

    actions = ("merge",)

    def _tools(self) -> list[dict[str, str]]:
        tools = super()._tools()
        if self.context.can_edit and not self.context.customer.merged_into:
            tools.append({"action": "merge", "label": _("Merge…")})
        return tools

    def do_merge(self, _data: dict[str, Any] | None = None) -> None:
        """Show the merge form (managers and administrators)."""
        if not self.context.can_edit:
            return
        from ..merge import MergePanel

        self.merge_panel = MergePanel(self.context, done=self._merge_done)
        self.show_form(self.merge_panel)

    def _merge_done(self, message: str, ok: bool) -> None:
        self._note = (message, ok)
        if not message:  # cancelled: the focus goes back to Merge…
            self.return_focus_to("merge")
        self.render()

    def form_labels(self) -> dict[str, str]:
        return {"archived": _("Archived (hidden from lists, kept with all its history)")}
