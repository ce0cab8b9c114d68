"""What each correction of a record changed (更正记录).

A correction never erases: the version it corrects stays in the chain. Parents, staff and regulators who may read a
record see, for each correction, the reason and every field whose words changed, compared as the tables read a
version (``tables.py``: names for ids, labels for codes), so a change reads "重量(克)：150 → 180" and not as ids.
Lines of a record (received items, dishes, people checked) are matched by their name, the n-th line of a name
with the n-th of the same name; a renamed line reads as one removed and one added. Files are compared by the
uploads they hold, so a photo replaced by another counts even when the number of photos stays.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any, NotRequired, TypedDict

from backend.records.bundle import Bundle, load_bundle
from backend.records.models import AttachmentRole, RecordAttachment, RecordEntry
from backend.records.tables import BOOKKEEPING_COLUMNS, LINE_COLUMNS, TABLES, Tabulator

ADDED = "新增"
REMOVED = "删除"


class Change(TypedDict):
    """One field a correction changed; ``line`` names the line of a record with lines, None for the record itself.

    A change of files names their attachment role (``role``): the two versions' ``record.files[role]`` are the
    files before and after, so a reader can look at the photo that was replaced beside the one that replaced it.
    """

    field: str
    before: str
    after: str
    line: str | None
    role: NotRequired[str]


def cell_text(value: Any) -> str:
    """A table cell as words: nothing for none, whole numbers without a decimal point."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def version_changes(versions: list[RecordEntry], today: date) -> dict[int, list[Change]]:
    """Each version's changes (by version id) from the version it corrects; none for the first.

    ``versions`` are the versions of one record (``queries.record_versions``). Seals are never corrected and have
    no table: their one version changed nothing.
    """
    if len(versions) < 2 or versions[0].kind not in TABLES:
        return {entry.id: [] for entry in versions}
    bundle = load_bundle(versions)
    rows = dict(Tabulator(versions[0].canteen_id, today).rows(versions, bundle))
    by_id = {entry.id: entry for entry in versions}
    columns = [header for header, _ in TABLES[versions[0].kind][1]]
    changes: dict[int, list[Change]] = {}
    for entry in versions:
        corrected = by_id.get(entry.amends_id) if entry.amends_id is not None else None
        if corrected is None:
            changes[entry.id] = []
            continue
        changes[entry.id] = (compare_rows(entry.kind, columns, rows[corrected], rows[entry])
                             + _file_changes(bundle, corrected.id, entry.id))
    return changes


def compare_rows(kind: str, columns: list[str], before: list[list[Any]], after: list[list[Any]]) -> list[Change]:
    """The changes between two versions' rows of a kind whose table has ``columns``."""
    line_columns, key = LINE_COLUMNS.get(kind, (frozenset(), ""))
    own = [i for i, header in enumerate(columns) if header not in BOOKKEEPING_COLUMNS | line_columns]
    first_before, first_after = (before or [[None] * len(columns)])[0], (after or [[None] * len(columns)])[0]
    changes = [Change(field=columns[i], before=cell_text(first_before[i]), after=cell_text(first_after[i]), line=None)
               for i in own if cell_text(first_before[i]) != cell_text(first_after[i])]
    if line_columns:
        changes += _line_changes(columns, [i for i, header in enumerate(columns) if header in line_columns],
                                 columns.index(key), before, after)
    return changes


def _line_changes(columns: list[str], line: list[int], key: int, before: list[list[Any]],
                  after: list[list[Any]]) -> list[Change]:
    old = _by_name(before, key)
    new = _by_name(after, key)
    changes: list[Change] = []
    for name, row in old.items():
        label = name[0]
        if name not in new:
            changes.append(Change(field=REMOVED, before=_summary(columns, line, key, row), after="", line=label))
            continue
        changes += [Change(field=columns[i], before=cell_text(row[i]), after=cell_text(new[name][i]), line=label)
                    for i in line if i != key and cell_text(row[i]) != cell_text(new[name][i])]
    changes += [Change(field=ADDED, before="", after=_summary(columns, line, key, row), line=name[0])
                for name, row in new.items() if name not in old]
    return changes


def _by_name(rows: list[list[Any]], key: int) -> dict[tuple[str, int], list[Any]]:
    """Lines keyed by (name, how many lines of that name came before), in their order."""
    seen: Counter[str] = Counter()
    keyed = {}
    for row in rows:
        name = cell_text(row[key])
        keyed[(name, seen[name])] = row
        seen[name] += 1
    return keyed


def _summary(columns: list[str], line: list[int], key: int, row: list[Any]) -> str:
    return "；".join(f"{columns[i]} {cell_text(row[i])}" for i in line if i != key and cell_text(row[i]))


def _file_changes(bundle: Bundle, before_id: int, after_id: int) -> list[Change]:
    old, new = _uploads(bundle.attachments.get(before_id, [])), _uploads(bundle.attachments.get(after_id, []))
    changes = []
    for role in AttachmentRole:
        if old[role] == new[role]:
            continue
        after = f"{len(new[role])} 份"
        if len(old[role]) == len(new[role]):
            after += "（已更换）"
        changes.append(Change(field=role.label, before=f"{len(old[role])} 份", after=after, line=None, role=role.value))
    return changes


def _uploads(attachments: Iterable[RecordAttachment]) -> dict[str, list[int]]:
    by_role: dict[str, list[int]] = defaultdict(list)
    for attachment in sorted(attachments, key=lambda a: a.position):
        by_role[attachment.role].append(attachment.upload_id)
    return by_role
