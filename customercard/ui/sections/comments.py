"""Section 6 — comments: the three newest (or all), a new comment stamped with today and the login (both
changeable), and editing a comment, which records who edited it and when."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import panel as pn
import param

from ... import formatting
from ...errors import CustomerCardError, ValidationError
from ...i18n import _
from ..form import FieldForm
from ..html import esc
from .base import Section, html_pane

NEWEST = 3


def comment_html(row: Any, store, locale: str) -> str:
    badge = ""
    if row.kind == "email":
        recipients = ", ".join(store.user_name(r) for r in (json.loads(row.recipients) if row.recipients else []))
        badge = f'<span class="cc-badge">{esc(_("E-mail to {who}").format(who=recipients))}</span>'
    edited = ""
    if row.edited_by:
        edited = " · " + esc(_("edited by {who} on {when}").format(
            who=store.user_name(row.edited_by), when=formatting.datetime(row.edited_at, locale)))
    return (f'<div class="cc-meta">{esc(formatting.date(row.written_on, locale))} · {esc(row.author_name)}{edited}'
            f'</div>{badge}<div class="cc-body">{esc(row.body)}</div>')


class CommentsSection(Section):
    key = "comments"
    title = _("Comments")

    show_all = param.Boolean(default=False, doc="Show every comment, not only the three newest.")

    def body(self):
        self._list = pn.Column(sizing_mode="stretch_width", margin=0, css_classes=["cc-comment-list"])
        self._toggle = pn.widgets.Button(color="light", css_classes=["cc-show-all"], margin=(4, 10))
        self._toggle.on_click(lambda _e: setattr(self, "show_all", not self.show_all))
        parts: list[Any] = []
        if self.context.can_edit:
            parts.append(self._new_comment_form())
        parts += [self._list, self._toggle]
        self.refresh()
        return pn.Column(*parts, sizing_mode="stretch_width", margin=0)

    def _new_comment_form(self) -> pn.viewable.Viewable:
        self._new_body = pn.widgets.TextAreaInput(placeholder=_("Write a comment…"), height=70,
                                                  sizing_mode="stretch_width", css_classes=["cc-new-comment"])
        self._new_date = pn.widgets.DatePicker(label=_("Date"), value=dt.date.today(), width=150)
        users = self.context.store.users()
        options = dict(zip(users["name"], users["login"], strict=True))
        if self.context.login not in options.values():
            options[self.context.login] = self.context.login
        self._new_author = pn.widgets.Select(label=_("Written by"), options=options, value=self.context.login,
                                             width=200)
        add = pn.widgets.Button(label=_("Add comment"), color="primary", css_classes=["cc-add-comment"],
                                align="end")
        add.on_click(lambda _e: self.add_comment())
        self._new_message = pn.pane.HTML("", margin=(0, 10), css_classes=["cc-comment-message"])
        return pn.Column(self._new_body, pn.Row(self._new_date, self._new_author, add), self._new_message,
                         sizing_mode="stretch_width", margin=0)

    def add_comment(self) -> bool:
        try:
            self.context.store.add_comment(self.context.customer.id, self._new_body.value or "",
                                           user=self.context.login, written_on=self._new_date.value,
                                           author=self._new_author.value)
        except ValidationError as exc:
            self._new_message.object = f'<span style="color:#b42318">{esc(" ".join(exc.errors.values()))}</span>'
            return False
        except CustomerCardError as exc:
            self._new_message.object = f'<span style="color:#b42318">{esc(str(exc))}</span>'
            return False
        self._new_body.value = ""
        self._new_date.value = dt.date.today()
        self._new_author.value = self.context.login
        self._new_message.object = f'<span style="color:#1d7a3c">{esc(_("Comment added."))}</span>'
        self.refresh()
        return True

    @param.depends("show_all", watch=True)
    def refresh(self) -> None:
        store, locale = self.context.store, self.context.locale
        total = store.comment_count(self.context.customer.id)
        frame = store.comments(self.context.customer.id, limit=None if self.show_all else NEWEST)
        items = []
        for row in frame.itertuples(index=False):
            html = html_pane(comment_html(row, store, locale), css_classes=["cc-comment"])
            if self.context.can_edit:
                edit = pn.widgets.Button(label=_("Edit"), color="light", width=60, align="start",
                                         css_classes=["cc-edit-comment"])
                edit.on_click(lambda _e, cid=int(row.id): self.edit_comment(cid))
                items.append(pn.Row(html, edit, sizing_mode="stretch_width", css_classes=[f"cc-comment-{row.id}"]))
            else:
                items.append(html)
        if not items:
            items = [html_pane(f'<p class="cc-empty">{esc(_("No comments yet."))}</p>')]
        self._list.objects = items
        self._toggle.visible = total > NEWEST
        self._toggle.label = (_("Show the {n} newest").format(n=NEWEST) if self.show_all
                              else _("Show all {n} comments").format(n=total))

    def edit_comment(self, comment_id: int) -> None:
        comment = self.context.store.get_comment(comment_id)
        fields = ["written_on", "author"] + ([] if comment.kind == "email" else ["body"])
        form = self._comment_form = FieldForm(record=comment, fields=fields, columns=2)
        users = self.context.store.users(include_inactive=True)
        names = dict(zip(users["name"], users["login"], strict=True))
        if comment.author not in names.values():
            names[comment.author] = comment.author
        author = pn.widgets.Select(label=_("Written by"), options=names, value=comment.author)
        form.widgets["author"] = author
        form._grid[1] = pn.Column(author, form.messages["author"], sizing_mode="stretch_width", margin=0)
        save = pn.widgets.Button(label=_("Save"), color="primary", css_classes=["cc-save-comment"])
        cancel = pn.widgets.Button(label=_("Cancel"))
        message = pn.pane.HTML("", margin=(0, 10))
        editor = pn.Column(form, pn.Row(save, cancel), message, sizing_mode="stretch_width",
                           css_classes=["cc-comment-editor"], styles={"background": "#f7f9fb"})

        def do_save(_event: Any) -> None:
            errors = comment.update_from(form.values())
            if not errors:
                try:
                    self.context.store.edit_comment(comment, user=self.context.login)
                except ValidationError as exc:
                    errors = exc.errors
                except CustomerCardError as exc:
                    message.object = f'<span style="color:#b42318">{esc(str(exc))}</span>'
                    return
            if errors:
                form.show_errors(errors)
                return
            self.refresh()

        save.on_click(do_save)
        cancel.on_click(lambda _e: self.refresh())
        self._list.objects = [editor if isinstance(item, pn.Row) and f"cc-comment-{comment_id}" in item.css_classes
                              else item for item in self._list.objects]

