"""Files (when document storage is switched on): the customer's documents — upload, download, delete."""

from __future__ import annotations

from typing import Any

import panel as pn

from ... import files, formatting
from ...errors import CustomerCardError, NotFound
from ...i18n import N_, _, ngettext
from ..accessibility import focus_first, live
from ..html import esc, isolated, link, rows_of, table
from .base import Section, action_button, while_saving


class FilesSection(Section):
    key = "files"
    listens_to = frozenset({"file"})
    title = N_("Files")
    collapsed_by_default = True
    actions = ("upload", "delete-file")
    forms = True

    @classmethod
    def shown(cls, context) -> bool:
        return context.settings.files_enabled

    def markup(self) -> str:
        frame = self.context.store.files(self.context.customer.id)
        zone = self.context.zone
        rows = []
        for f in rows_of(frame):
            cells = [link(f"/files/{int(f.id)}", f.name), esc(files.human_size(int(f.size))), esc(f.uploaded_by_name),
                     esc(formatting.datetime(f.uploaded_at, zone))]
            if self.context.can_edit:
                cells.append(action_button("delete-file", _("Delete"), item_id=int(f.id), css="cc-delete-file",
                                           about=f.name))
            rows.append(cells)
        head = (f'<p>{action_button("upload", _("Upload files…"), css="cc-upload-files")}</p>'
                if self.context.can_edit else "")
        headers = [(_("File"), False), (_("Size"), True), (_("Uploaded by"), False), (_("When"), False)]
        if self.context.can_edit:
            headers.append(("", False))
        listing = table(headers, rows, css_id="cc-files-table") if rows else \
            f'<p class="cc-empty">{esc(_("No files."))}</p>'
        return head + listing

    def do_upload(self, _data: dict[str, Any] | None = None) -> None:
        if not self.context.can_edit:
            return
        limit = files.max_bytes(self.context.store)
        self._input = pn.widgets.FileInput(multiple=True, label=_("Files to upload"),  # (the page checks the sizes)
                                           css_classes=["cc-file-input", f"cc-upload-max-{int(limit)}"])
        send = pn.widgets.Button(label=_("Upload"), color="primary", css_classes=["cc-file-send"])
        cancel = pn.widgets.Button(label=_("Cancel"))
        hint = _("At most {size} a file.").format(size=files.human_size(limit))
        self._upload_message = pn.pane.HTML(f'<span class="cc-muted">{esc(hint)}</span>',
                                            css_classes=["cc-upload-message"], margin=(0, 10))
        self._input.param.watch(self._arrived, ["value", "filename"])
        send.on_click(lambda _e: self.upload())
        cancel.on_click(lambda _e: self.render())
        self.view.param.update(child=pn.Column(self._input, pn.Row(send, cancel), self._upload_message,
                                               sizing_mode="stretch_width",
                                               css_classes=focus_first(["cc-upload-form"])),
                               child_first=True)

    def _arrived(self, *_events: Any) -> None:
        """The chosen files have reached the server: said where the page said they were being sent (the page's
        Upload, pressed meanwhile, waits for this)."""
        names = self._input.filename
        names = names if isinstance(names, list) else [names] if names else []
        if not names:
            return
        values = self._input.value if isinstance(self._input.value, list) else [self._input.value]
        size = files.human_size(sum(len(v or b"") for v in values))
        ready = ngettext("Ready to upload {names} ({size}).", "Ready to upload {names} ({size}).", len(names)).format(
            names=", ".join(isolated(n) for n in names), size=size)
        self._upload_message.object = f'<span class="cc-upload-ready"{live(True)}>{esc(ready)}</span>'

    @while_saving
    def upload(self) -> bool:
        values, names = self._input.value, self._input.filename
        if not values:
            self._upload_message.object = (f'<span style="color:#b42318"{live(False)}>'
                                           f'{esc(_("Choose files first."))}</span>')
            return False
        if not isinstance(values, list):
            values, names = [values], [names]
        if not self.context.store.settings().files_enabled:  # switched off since the card was opened: as stored now
            off = _("Document storage has been switched off (System administration → Customers → Settings): no "
                    "file was uploaded.")
            self._upload_message.object = (f'<span style="color:#b42318"{live(False)} class="cc-upload-error">'
                                           f'{esc(off)}</span>')
            return False
        try:
            files.upload_many(self.context.store, self.context.customer.id, list(zip(names, values, strict=True)),
                              user=self.context.login)
        except CustomerCardError as exc:
            errors = getattr(exc, "errors", None)
            text = " ".join(errors.values()) if errors else str(exc)
            self._upload_message.object = (f'<span style="color:#b42318"{live(False)} class="cc-upload-error">'
                                           f'{esc(text)}</span>')
            return False
        self._note = (ngettext("Uploaded {n} file.", "Uploaded {n} files.", len(values)).format(n=len(values)), True)
        self.render()
        return True

    @while_saving
    def do_delete_file(self, data: dict[str, Any]) -> None:
        try:
            record = self.context.store.file_record(int(data.get("id")))
        except (TypeError, ValueError, NotFound):
            return
        if record["customer_id"] != self.context.customer.id:
            return
        try:
            self.context.store.delete_file(int(record["id"]), user=self.context.login)
        except CustomerCardError as exc:
            self.say(str(exc), ok=False)
            return
        self._note = (_("Deleted “{name}”.").format(name=isolated(record["name"])), True)
        self.render()
