"""Check a QuestionnaireResponse against its Questionnaire and report every problem as an Issue.

    index = load_questionnaire_index()                    # or QuestionnaireIndex(qs, terminology)
    issues = validate_questionnaire_response(response, index)

Checks: the Questionnaire and version exist; linkIds are known and sit where the Questionnaire puts
them; answers have the value[x] the item type takes and come from answerOption / answerValueSet
(expanded locally); required items that are enabled are answered; items enableWhen disables are
not answered; non-repeating items have one answer; groups and display items have none; calculated
items (SDC calculatedExpression) match the calculation. Two passes over the response: linear time.

Parts: questionnaire_index (loading, compiled items), enable_when, answer_values (value[x] formats
and options), questionnaire_messages (message ids); this module walks the response and reports.
"""

from __future__ import annotations

from typing import Any

from adapter.conformance.answer_values import format_problem, option_problem, value_key
from adapter.conformance.enable_when import Enablement
from adapter.conformance.questionnaire_index import (
    DEFAULT_DIRECTORIES,
    TOP_LEVEL,
    CompiledQuestionnaire,
    ItemDef,
    QuestionnaireIndex,
    load_questionnaire_index,
)
from adapter.conformance.questionnaire_messages import MESSAGES, issue
from adapter.errors import Issue

# Names other modules have always imported from here, though most now live in the modules above.
__all__ = [
    "DEFAULT_DIRECTORIES",
    "MESSAGES",
    "CompiledQuestionnaire",
    "ItemDef",
    "QuestionnaireIndex",
    "load_questionnaire_index",
    "validate_questionnaire_response",
]


def _where(parent: str | None) -> str:
    return "at the top level" if parent is None else f"in '{parent}'"


class _Check:
    """One validation run over one response: collects answers, then walks and reports."""

    def __init__(self, questionnaire: CompiledQuestionnaire, response: dict, base: str) -> None:
        self.q = questionnaire
        self.response = response
        self.base = base
        self.issues: list[Issue] = []
        self.enablement = Enablement(questionnaire)
        self.present: dict[str, str] = {}
        self.values: dict[str, tuple[str, Any]] = {}

    def report(self, message_id: str, path: str, diagnostics: str) -> None:
        self.issues.append(issue(message_id, path, diagnostics))

    def enabled(self, link_id: str) -> bool:
        """Whether enableWhen (and every ancestor's enableWhen) lets this item be answered."""
        return self.enablement.enabled(link_id)

    def walk(self, items: Any, parent: str | None, path: str, quiet: bool) -> None:
        """Second pass: check each item in place; `quiet` once a disabled ancestor is reported."""
        if items is None:
            return
        if not isinstance(items, list):
            self.report("LD-QR-MALFORMED", f"{path}.item", "item must be an array of items.")
            return
        seen: set[str] = set()
        for index, item in enumerate(items):
            item_path = f"{path}.item[{index}]"
            definition = self._definition(item, item_path)
            if definition is None:
                continue
            self._check_place(definition, parent, item_path, seen)
            self.present.setdefault(definition.link_id, item_path)
            self.check_item(definition, item, item_path, quiet)

    def _definition(self, item: Any, path: str) -> ItemDef | None:
        """The Questionnaire item this response item answers; None (reported) if there is none."""
        if not isinstance(item, dict):
            self.report("LD-QR-MALFORMED", path, "Each item must be an object.")
            return None
        link_id = item.get("linkId")
        if not isinstance(link_id, str):
            self.report("LD-QR-NO-LINKID", path, "The item has no linkId.")
            return None
        definition = self.q.items.get(link_id)
        if definition is None:
            self.report(
                "LD-QR-UNKNOWN-LINKID",
                f"{path}.linkId",
                f"The linkId is not an item of {self.q.url}|{self.q.version}.",
            )
        return definition

    def _check_place(self, definition: ItemDef, parent: str | None, path: str, seen: set) -> None:
        """Report an item under the wrong parent, or repeated when it does not repeat."""
        link_id = definition.link_id
        if definition.parent != parent:
            self.report(
                "LD-QR-WRONG-PLACE",
                path,
                f"Item '{link_id}' belongs {_where(definition.parent)} but was found "
                f"{_where(parent)}.",
            )
        if link_id in seen and not definition.repeats:
            self.report(
                "LD-QR-DUPLICATE-ITEM",
                path,
                f"Item '{link_id}' does not repeat but appears more than once here.",
            )
        seen.add(link_id)

    def check_item(self, definition: ItemDef, item: dict, path: str, quiet: bool) -> None:
        """Check one item against its definition, then its children."""
        link_id = definition.link_id
        answers = item.get("answer")
        if answers is not None and not isinstance(answers, list):
            self.report("LD-QR-MALFORMED", f"{path}.answer", "answer must be an array.")
            answers = None
        answers = answers or []
        if definition.type == "display":
            self._check_display(definition, item, answers, path)
            return
        if not quiet and not self.enabled(link_id) and (answers or item.get("item")):
            self.report(
                "LD-QR-DISABLED-ANSWERED",
                path,
                f"Item '{link_id}' is disabled by its enableWhen conditions (or a parent's) "
                "given the other answers, so it must not be answered.",
            )
            quiet = True
        if definition.type == "group":
            self._check_group(definition, item, answers, path, quiet)
        else:
            self._check_question(definition, item, answers, path, quiet)

    def _check_display(self, definition: ItemDef, item: dict, answers: list, path: str) -> None:
        if answers or item.get("item"):
            where = f"{path}.answer[0]" if answers else f"{path}.item[0]"
            self.report(
                "LD-QR-DISPLAY-ANSWERED",
                where,
                f"Item '{definition.link_id}' is display text and takes no answers or child items.",
            )

    def _check_group(
        self, definition: ItemDef, item: dict, answers: list, path: str, quiet: bool
    ) -> None:
        if answers:
            self.report(
                "LD-QR-GROUP-ANSWERED",
                f"{path}.answer[0]",
                f"Item '{definition.link_id}' is a group: it holds items and takes no answers.",
            )
        self.walk(item.get("item"), definition.link_id, path, quiet)

    def _check_question(
        self, definition: ItemDef, item: dict, answers: list, path: str, quiet: bool
    ) -> None:
        link_id = definition.link_id
        if len(answers) > 1 and not definition.repeats:
            self.report(
                "LD-QR-MULTIPLE-ANSWERS",
                f"{path}.answer[1]",
                f"Item '{link_id}' does not repeat: one answer expected, found {len(answers)}.",
            )
        for index, answer in enumerate(answers):
            self.check_answer(definition, answer, f"{path}.answer[{index}]", quiet)
        if item.get("item"):
            # Children of a question belong under its answers, never beside them.
            self.walk(item.get("item"), f"{link_id} (beside its answers)", path, quiet)

    def check_answer(self, definition: ItemDef, answer: Any, path: str, quiet: bool) -> None:
        """Check one answer's value[x] type, format and option membership."""
        link_id = definition.link_id
        if not isinstance(answer, dict):
            self.report("LD-QR-MALFORMED", path, "Each answer must be an object.")
            return
        key = value_key(answer)
        expected = " or ".join(sorted(definition.value_keys))
        if key is None:
            self.report(
                "LD-QR-ANSWER-NO-VALUE",
                path,
                f"The answer to '{link_id}' has no value; expected {expected}.",
            )
        elif key not in definition.value_keys:
            self.report(
                "LD-QR-ANSWER-TYPE",
                f"{path}.{key}",
                f"Item '{link_id}' is of type {definition.type} and takes {expected}; "
                f"found {key[:40]}.",
            )
        else:
            self._check_value(definition, key, answer[key], f"{path}.{key}")
        self.walk(answer.get("item"), link_id, path, quiet)

    def _check_value(self, definition: ItemDef, key: str, value: Any, path: str) -> None:
        problem = format_problem(definition, key, value)
        if problem is not None:
            self.report("LD-QR-ANSWER-FORMAT", path, problem)
            return
        self.values.setdefault(definition.link_id, (path, value))
        problem = option_problem(definition, key, value)
        if problem is not None:
            self.report("LD-QR-ANSWER-NOT-IN-OPTIONS", path, problem)

    def check_required(self, link_ids: list[str], parent_path: str) -> None:
        """Report enabled required items left unanswered; an absent optional group excuses them."""
        for link_id in link_ids:
            definition = self.q.items[link_id]
            if definition.type == "display" or not self.enabled(link_id):
                continue
            present = self.present.get(link_id)
            if definition.type == "group":
                if present is not None:
                    self.check_required(definition.children, present)
                    continue
                missing = definition.required
            else:
                missing = definition.required and not any(
                    key is not None for key, _ in self.enablement.answers.get(link_id, [])
                )
            if missing:
                self.report(
                    "LD-QR-REQUIRED-MISSING",
                    parent_path,
                    f"Required {'group' if definition.type == 'group' else 'item'} "
                    f"'{link_id}' is enabled but has no answer {_where(definition.parent)}.",
                )

    def check_calculations(self) -> None:
        """Warn when an answered calculated item differs from its calculatedExpression."""
        for link_id, definition in self.q.items.items():
            if definition.calculation is None or link_id not in self.values:
                continue
            if not self.enabled(link_id):
                continue
            path, given = self.values[link_id]
            context = {"resource": self.response, "questionnaire": self.q.resource}
            try:
                result = definition.calculation(self.response, context)
            except Exception:  # a third-party evaluator over untrusted input: never a 500
                self.report(
                    "LD-QR-CALCULATION-FAILED",
                    path,
                    f"The calculation for '{link_id}' could not be evaluated on this response.",
                )
                continue
            expected = result[0] if result else None
            if not isinstance(expected, int | float) or float(given) != float(expected):
                self.report(
                    "LD-QR-CALCULATED-MISMATCH",
                    path,
                    f"Item '{link_id}' does not equal the value its calculatedExpression gives "
                    "for the answers in this response.",
                )


def validate_questionnaire_response(
    response: dict, questionnaires: QuestionnaireIndex, base_path: str = "QuestionnaireResponse"
) -> list[Issue]:
    """Every way this QuestionnaireResponse departs from its Questionnaire, as Issues."""
    if not isinstance(response, dict):
        return [issue("LD-QR-MALFORMED", base_path, "A QuestionnaireResponse must be an object.")]
    questionnaire = _questionnaire_for(response, questionnaires, base_path)
    if isinstance(questionnaire, Issue):
        return [questionnaire]
    check = _Check(questionnaire, response, base_path)
    check.enablement.collect(response.get("item"))
    check.walk(response.get("item"), TOP_LEVEL, base_path, quiet=False)
    if response.get("status") in ("completed", "amended"):
        check.check_required(questionnaire.top, base_path)
    check.check_calculations()
    return check.issues


def _questionnaire_for(
    response: dict, questionnaires: QuestionnaireIndex, base_path: str
) -> CompiledQuestionnaire | Issue:
    """The Questionnaire the response names, or the Issue saying why it cannot be found."""
    canonical = response.get("questionnaire")
    if not isinstance(canonical, str) or not canonical:
        return issue(
            "LD-QR-NO-QUESTIONNAIRE",
            f"{base_path}.questionnaire",
            "questionnaire must name the canonical url (and version) the response answers.",
        )
    questionnaire = questionnaires.get(canonical)
    if questionnaire is not None:
        return questionnaire
    url = canonical.split("|", 1)[0]
    if questionnaires.knows_url(url):
        message_id = "LD-QR-UNKNOWN-VERSION"
        text = f"names a version of {url} that is not known; known: {questionnaires.versions(url)}"
    else:
        message_id, text = "LD-QR-UNKNOWN-QUESTIONNAIRE", "names a Questionnaire not known here"
    return issue(message_id, f"{base_path}.questionnaire", f"questionnaire {text}.")
