"""The 说明 sheet of every exported workbook: what the table is of and how it was made.

One builder for all exports (the unit list, decision records, the what-if, the structure report,
``check --all``, the search): the unit or scope, the evaluation date, the policy set (folder and
digest), the draft and what it changes (the sentences of render/comparison.py, the one builder of
草案与现行对照), the filters, how many rows, who exported it and when (Beijing time). A row
without a value is left out, so each export says only what applies to it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cadre_policy.i18n import N_, _
from cadre_policy.render.tables import Column, Sheet
from cadre_policy.render.times import beijing_now

COLUMNS = (Column("item", N_("Item")), Column("value", N_("Value")))


@dataclass
class About:
    """What an exported table is of. ``count`` is (a catalogue message naming the rows, how many);
    ``changes`` is a comparison (render/comparison.py ``comparison`` or ``changes``)."""
    who: str
    scope: str = ""
    day: date | None = None
    policy_path: str = ""
    policy_digest: str = ""
    draft: str = ""
    changes: dict | None = None
    filters: dict | None = None              # None: the table has no filters (no row); {}: none chosen
    count: tuple[str, int] | None = None

    @classmethod
    def of(cls, policy_set, day: date | None, who: str, path: bool = True, **more) -> "About":
        """For a table evaluated with ``policy_set`` on ``day``; the server says no file path (``path=False``:
        the policy set is named by its digest, as serve/api.py ``without_paths``)."""
        return cls(who, day=day, policy_path=str(policy_set.path or "") if path else "",
                   policy_digest=policy_set.digest, **more)

    def rows(self) -> list[dict]:
        from cadre_policy.render.comparison import change_lines
        items = [(N_("Unit"), self.scope),
                 (N_("Evaluation date"), self.day.isoformat() if self.day else ""),
                 (N_("Policy set"), self.policy_digest),
                 (N_("Policy set folder"), self.policy_path),
                 (N_("Draft"), self.draft or (_("none: the rules in force") if self.day else "")),
                 (N_("Changes in the draft"), "" if self.changes is None else
                  "\n".join(change_lines(self.changes)) or _("No parameter or rule changes.")),
                 (N_("Filters"), None if self.filters is None else
                  "；".join(f"{k}={v}" for k, v in self.filters.items() if v) or _("none")),
                 (self.count[0] if self.count else "", self.count[1] if self.count else None),
                 (N_("Exported by"), self.who),
                 (N_("Exported at"), beijing_now())]
        return [{"item": _(item), "value": value} for item, value in items if item and value not in ("", None)]

    def sheet(self) -> Sheet:
        """The 说明 sheet."""
        return Sheet(N_("About"), COLUMNS, self.rows())


def draft_words(draft) -> str:
    """A draft as the 说明 sheet names it: its title and id."""
    return f"{draft.title}（{draft.id}）" if draft.title and draft.title != draft.id else draft.id
