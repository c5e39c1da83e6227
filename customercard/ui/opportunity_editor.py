"""The opportunity editor above a pipeline view: the board (:mod:`.pipeline_board`) and the table
(:mod:`.pipeline`) open the same one."""

from __future__ import annotations

from typing import Any

from ..errors import CustomerCardError
from ..i18n import _
from .accessibility import focus_here, live
from .editor import RecordEditor
from .html import esc, isolated
from .switches import require_crm

#: The fields an opportunity is edited by on the pipeline.
EDIT_FIELDS = ["stage", "status", "lost_reason", "amount", "probability", "expected_close"]


def open_opportunity_editor(view: Any, opportunity_id: int, css: str, ok_css: str = "") -> RecordEditor | None:
    """The opportunity editor above a pipeline view (the table or the board): ``view`` has ``store``, ``user``,
    ``editor``, ``_editor_box``, ``_message``, ``_own`` (its own saves, not heard again) and ``refresh()``. Saved on
    the version shown; a change by someone else meanwhile is a conflict to resolve."""
    store = view.store
    try:
        opportunity = store.get_opportunity(opportunity_id)
    except CustomerCardError:
        return None
    customer = store.customer_names([opportunity.customer_id]).get(opportunity.customer_id, ("", None))[0]

    def done(saved: Any) -> None:
        view.editor = None
        view._editor_box.objects = []
        text = esc(_("Saved “{t}”.").format(t=isolated(saved.title)))
        classes = f' class="{ok_css}"' if ok_css else ""
        view._message.object = f'<p style="color:#1d7a3c"{live()}{focus_here()}{classes}>{text}</p>'
        view.refresh()

    def cancelled() -> None:
        view.editor = None
        view._editor_box.objects = []

    def by_status(draft: Any) -> None:
        if draft.status == "won":
            draft.probability = 100.0
        elif draft.status == "lost":
            draft.probability = 0.0

    def save(draft: Any) -> Any:
        require_crm(store)
        view._own.add((draft.id, draft.version + 1))  # drawn again by done(): not once more when it comes back
        return store.save_opportunity(draft, user=view.user)
    view.editor = RecordEditor(opportunity, EDIT_FIELDS, save=save, reload=lambda: store.get_opportunity(
        opportunity_id), done=done, cancelled=cancelled, prepare=by_status, css=css,
        title=f"{opportunity.title} — {customer}", columns=3, user_name=store.user_name,
        zone=store.settings().time_zone, focus=True, guarded=True, choices=store.choices)
    view._editor_box.objects = [view.editor.__panel__()]
    view._message.object = ""
    return view.editor
