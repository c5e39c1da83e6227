"""Section 6 — comments: the three newest (or all), a new comment stamped with today and the login (both
changeable), and editing a comment, which records who edited it and when."""

from __future__ import annotations

import json
from typing import Any

import panel as pn
import param

from ... import formatting
from ...errors import CustomerCardError, NotFound, ValidationError
from ...i18n import N_, _
from ...models import Comment, comment_dates
from ..accessibility import focus_first, live
from ..choices import people_options
from ..editor import RecordEditor
from ..form import date_picker, read_text, text_input
from ..html import esc, rows_of
from .base import Section, action_button, while_saving

NEWEST = 3


def comment_html(row: Any, store, zone: str, editable: bool) -> str:
    badge = ""
    if row.kind == "email":
        recipients = ", ".join(store.user_name(r) for r in (json.loads(row.recipients) if row.recipients else []))
        badge = f'<span class="cc-badge">{esc(_("E-mail to {who}").format(who=recipients))}</span>'
    edited = ""
    if row.edited_by:
        edited = " · " + esc(_("edited by {who} on {when}").format(
            who=store.user_name(row.edited_by), when=formatting.datetime(row.edited_at, zone)))
    edit = (" · " + f'<button class="cc-link cc-edit-comment" data-action="edit-comment" data-id="{int(row.id)}">'
            f'{esc(_("Edit"))}</button>') if editable else ""
    return (f'<li class="cc-comment" id="cc-comment-{int(row.id)}"><div class="cc-meta">'
            f'{esc(formatting.date(row.written_on))} · {esc(row.author_name)}{edited}{edit}</div>'
            f'{badge}<div class="cc-body">{esc(row.body)}</div></li>')


class CommentsSection(Section):
    key = "comments"
    listens_to = frozenset({"comment"})
    title = N_("Comments")
    actions = ("new-comment", "edit-comment", "show-all")
    forms = True

    show_all = param.Boolean(default=False, doc="Show every comment, not only the three newest.")
    editor: RecordEditor | None = None

    def markup(self) -> str:
        button = ""
        if self.context.can_edit:
            button = f'<p>{action_button("new-comment", _("New comment…"), css="cc-new-comment-button")}</p>'
        return button + self.listing()

    def listing(self) -> str:
        """The comments shown (three newest, or all) and the link that switches between them."""
        store, zone, customer_id = self.context.store, self.context.zone, self.context.customer.id
        frame, total = store.comments_with_count(customer_id, limit=None if self.show_all else NEWEST)
        editable = self.context.can_edit
        items = "".join(comment_html(row, store, zone, editable) for row in rows_of(frame))
        parts = [f'<ul class="cc-list cc-comment-list">{items}</ul>' if items else
                 f'<p class="cc-empty">{esc(_("No comments yet."))}</p>']
        if total > NEWEST:
            label = (_("Show the {n} newest").format(n=NEWEST) if self.show_all
                     else _("Show all {n} comments").format(n=total))
            parts.append(f'<p><button class="cc-link cc-show-all" data-action="show-all">{esc(label)}</button></p>')
        return "".join(parts)

    def do_show_all(self, _data: dict[str, Any]) -> None:
        self.show_all = not self.show_all

    @param.depends("show_all", watch=True)
    def _show_all_changed(self) -> None:
        self.refresh()

    # -- a new comment --------------------------------------------------------------------------------------
    def do_new_comment(self, _data: dict[str, Any] | None = None) -> None:
        if not self.context.can_edit:
            return
        self._note = ("", True)
        # labelled as the edit form's (its placeholder alone was its name, gone once typed in)
        self._new_body = text_input(Comment.param.body, label=_("Comment"), placeholder=_("Write a comment…"),
                                    height=80, sizing_mode="stretch_width", css_classes=["cc-new-comment"])
        today = self.context.store.firm_today()
        first, last = comment_dates(today)  # the picker offers the days a comment may have
        self._new_date = date_picker(label=_("Date"), value=today, start=first, end=last, width=150)
        users = self.context.store.users()
        options = people_options(zip(users["login"], users["name"], strict=True))  # two of one name: both offered
        if self.context.login not in options.values():
            options[self.context.login] = self.context.login
        self._new_author = pn.widgets.Select(label=_("Written by"), options=options, value=self.context.login,
                                             width=200)
        # (-save and -cancel: the form's own buttons, which Enter in its date field and Escape press)
        add = pn.widgets.Button(label=_("Add comment"), color="primary", align="end",
                                css_classes=["cc-add-comment", "cc-comment-save"])
        cancel = pn.widgets.Button(label=_("Cancel"), align="end", css_classes=["cc-comment-cancel"])
        add.on_click(lambda _e: self.add_comment())
        cancel.on_click(lambda _e: self.render())
        # a refusal is said under the field it is about, tied to it (aria-invalid, described by the message): the
        # text's (or anything else's) under the text, the date's under the date
        self._new_message = pn.pane.HTML("", margin=(0, 10), css_classes=["cc-comment-message", "cc-field-error"])
        self._new_date_error = pn.pane.HTML("", margin=(0, 10), css_classes=["cc-comment-date-error",
                                                                             "cc-field-error"])
        self._cells = {"body": pn.Column(self._new_body, self._new_message, margin=0, sizing_mode="stretch_width"),
                       "written_on": pn.Column(self._new_date, self._new_date_error, margin=0)}
        self.view.param.update(child=pn.Column(self._cells["body"],
                                               pn.Row(self._cells["written_on"], self._new_author, add, cancel),
                                               sizing_mode="stretch_width", margin=0, css_classes=focus_first()),
                               child_first=True, html=self.listing(), tools=[])
        self.keep_beside_form(self.listing)

    @while_saving
    def add_comment(self) -> bool:
        body = read_text(self._new_body.value, Comment.param.body)
        try:
            self.context.store.add_comment(self.context.customer.id, body, user=self.context.login,
                                           written_on=self._new_date.value, author=self._new_author.value)
        except ValidationError as exc:
            dated = exc.errors.get("written_on", "")
            rest = " ".join(text for name, text in exc.errors.items() if name != "written_on")
            self._say_refused(rest, dated)
            return False
        except CustomerCardError as exc:
            self._say_refused(str(exc), "")
            return False
        self._note = (_("Comment added."), True)
        self.render()
        return True

    def _say_refused(self, text: str, dated: str) -> None:
        """Why the new comment was refused: about its date under the date, the rest under the text; the focus to
        the first field that is wrong."""
        for pane, said in ((self._new_message, text), (self._new_date_error, dated)):
            pane.object = f'<span style="color:#b42318"{live(False)}>{esc(said)}</span>' if said else ""
        cell = self._cells["body" if text else "written_on"]
        cell.css_classes = focus_first(cell.css_classes)

    # -- editing a comment ----------------------------------------------------------------------------------
    def do_edit_comment(self, data: dict[str, Any]) -> None:
        try:
            comment_id = int(data.get("id"))
            comment = self.context.store.get_comment(comment_id)
        except (TypeError, ValueError, NotFound):
            return
        if comment.customer_id != self.context.customer.id or not self.context.can_edit:
            return  # only this card's comments, only for writers
        self.edit_comment(comment_id)

    def edit_comment(self, comment_id: int) -> RecordEditor:
        """Edit a comment in place (its text, date and author; the text of a sent e-mail stays as sent)."""
        store, login = self.context.store, self.context.login
        comment = store.get_comment(comment_id)
        fields = ["written_on", "author"] + ([] if comment.kind == "email" else ["body"])
        users = store.users(include_inactive=True)
        names = people_options(zip(users["login"], users["name"], strict=True))
        if comment.author not in names.values():
            names[comment.author] = comment.author
        author = pn.widgets.Select(label=_("Written by"), options=names, value=comment.author,
                                   sizing_mode="stretch_width")

        def finished(_saved: Comment) -> None:
            self.editor = None
            self._note = (_("Comment saved."), True)
            self.render()

        def cancelled() -> None:
            self.editor = None
            self.render()
        self.editor = RecordEditor(comment, fields, title=_("Edit comment"), css="cc-comment-editor",
                                   save=lambda c: store.edit_comment(c, user=login), done=finished,
                                   cancelled=cancelled, reload=lambda: store.get_comment(comment_id),
                                   overrides={"author": author}, user_name=store.user_name,
                                   zone=self.context.zone, saving=self.context.saving, choices=store.choices)
        # the focus goes to what is most often changed, the text (an e-mail's: its author), not to the date, whose
        # calendar would open over the text: it opens when the date field is chosen
        first = self.editor.widgets["body" if "body" in fields else "author"]
        first.css_classes = focus_first(first.css_classes)
        self.view.param.update(child=self.editor.__panel__(), child_first=True)
        self.keep_beside_form(self.markup)
        return self.editor
