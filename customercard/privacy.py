"""A contact person's personal data as files: a JSON file of everything the firm holds about them
(:meth:`Store.contact_data_export`) and their vCard, written side by side or in one .zip (the contact card's
download and ``customercard privacy export``)."""

from __future__ import annotations

import errno
import io
import json
import os
import zipfile
from pathlib import Path

from .errors import CustomerCardError
from .i18n import _
from .store import Store
from .vcard import contact_vcard, vcard_filename


def personal_data_files(store: Store, contact_id: int, user: str | None = None) -> dict[str, bytes]:
    """{file name: contents}: ``contact-<id>.json`` and the contact's vCard (administrators only)."""
    export = store.contact_data_export(contact_id, user=user)
    contact = store.get_contact(contact_id)
    text = json.dumps(export, ensure_ascii=False, indent=2) + "\n"
    return {f"contact-{contact_id}.json": text.encode("utf-8"),
            vcard_filename(contact): contact_vcard(store, contact_id).encode("utf-8")}


def personal_data_zip(store: Store, contact_id: int, user: str | None = None) -> bytes:
    """The JSON file and the vCard in one .zip archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in personal_data_files(store, contact_id, user).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def write_personal_data(store: Store, contact_id: int, target: Path, user: str | None = None) -> list[Path]:
    """Write the export: ``target`` ending in .zip gets both files; one ending in .json is the JSON file, and the
    vCard goes beside it with the suffix .vcf; a name without an ending gets .json (``person`` → person.json and
    person.vcf). Returns the files written; never writes over a file; any other ending is refused (JSON was written
    under a .txt name)."""
    if target.suffix.lower() not in (".zip", ".json", ""):
        raise CustomerCardError(_("Give the export a file name ending in .zip (both files in one) or .json (the vCard "
                                  "beside it as .vcf), not {name}.").format(name=target.name))
    if not target.suffix:  # (the JSON was written under the bare name, the vCard beside it as NAME.vcf)
        target = target.with_name(target.name + ".json")
    as_zip = target.suffix.lower() == ".zip"
    paths = [target] if as_zip else [target, target.with_suffix(".vcf")]
    for path in paths:
        if path.exists():
            raise CustomerCardError(_("{path} exists already: choose a new file name.").format(path=path))
        if not path.parent.is_dir():  # as `export` says: a mistyped folder is not made
            if any(folder.exists() and not folder.is_dir() for folder in path.parents):  # a file in the way: said so
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path.parent))
            raise CustomerCardError(_("No folder {parent} to write {name} into.").format(parent=path.parent,
                                                                                       name=path.name))
    if as_zip:
        contents = [personal_data_zip(store, contact_id, user)]
    else:
        files = personal_data_files(store, contact_id, user)
        contents = [files.pop(f"contact-{contact_id}.json"), *files.values()]
    for path, data in zip(paths, contents, strict=True):
        # made for its owner only (personal data), and never over a file made meanwhile
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            out.write(data)
    return paths
