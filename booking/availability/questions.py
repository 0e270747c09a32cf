"""A magistrate's own questions on the booking form: up to ten, each a short text, a long
text, one choice among options, yes or no, or a date; required or not.

Pure. The questions live with the magistrate's rules (`availability_rule.questions`); a
booking keeps its answers beside the question's words as they were asked, so that a later
edit of the form never changes what an old booking says.
"""

from __future__ import annotations

from datetime import date

KINDS = {"short_text": "Texto curto", "long_text": "Texto longo", "choice": "Uma opção",
         "yes_no": "Sim ou não", "date": "Data"}
MAX_QUESTIONS = 10
LIMITS = {"short_text": 200, "long_text": 2000}
YES, NO = "Sim", "Não"


def numbered(questions: list[dict]) -> list[dict]:
    """The questions with the ids answers refer to (q1, q2... in the order shown)."""
    return [{"id": f"q{number}", "label": q["label"].strip(), "kind": q["kind"],
             "required": bool(q.get("required")),
             "options": [o.strip() for o in q.get("options") or [] if o.strip()]
             if q["kind"] == "choice" else []}
            for number, q in enumerate(questions, start=1)]


def answers_for(questions: list[dict], given: dict) -> tuple[list[dict], dict[str, str]]:
    """The answers to keep ([{question, answer}], in order) and, per question id, what is
    wrong with what was given (Portuguese)."""
    kept, errors = [], {}
    unknown = sorted(set(given) - {q["id"] for q in questions})
    for qid in unknown:
        errors[qid] = "Esta pergunta não está no formulário deste(a) magistrado(a)."
    for question in questions:
        value = given.get(question["id"])
        if isinstance(value, str):
            value = value.strip()
        if value in (None, ""):
            if question["required"]:
                errors[question["id"]] = "Responda esta pergunta."
            continue
        answer, problem = _answer(question, value)
        if problem:
            errors[question["id"]] = problem
        else:
            kept.append({"question": question["label"], "answer": answer})
    return kept, errors


def _answer(question: dict, value) -> tuple[str | None, str | None]:
    kind = question["kind"]
    if kind in LIMITS:
        if not isinstance(value, str):
            return None, "Responda com um texto."
        if len(value) > LIMITS[kind]:
            return None, f"Use no máximo {LIMITS[kind]} caracteres."
        if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
            return None, "O texto tem caracteres de controle."
        return value, None
    if kind == "choice":
        return (value, None) if value in question["options"] else \
            (None, f"Escolha uma das opções: {', '.join(question['options'])}.")
    if kind == "yes_no":
        if value in (True, "sim", "true", "1", YES):
            return YES, None
        if value in (False, "nao", "não", "false", "0", NO):
            return NO, None
        return None, "Responda sim ou não."
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return None, "Informe uma data no formato AAAA-MM-DD."
    if not 1900 <= day.year <= 2100:
        return None, "Informe uma data entre 1900 e 2100."
    return day.strftime("%d/%m/%Y"), None


def as_typed(questions: list[dict], kept: list[dict]) -> dict[str, str]:
    """Answers kept with a booking, as the form's inputs take them again (by question id),
    for a form filled in anew: the question matched by its words, a "Sim" as "sim", a date
    as AAAA-MM-DD. A question changed meanwhile is left blank."""
    by_label = {answer["question"]: answer["answer"] for answer in kept or []}
    typed = {}
    for question in questions:
        answer = by_label.get(question["label"])
        if answer is None:
            continue
        if question["kind"] == "yes_no":
            answer = {YES: "sim", NO: "nao"}.get(answer)
        elif question["kind"] == "date":
            day, month, year = answer.split("/") if answer.count("/") == 2 else ("", "", "")
            answer = f"{year}-{month}-{day}" if year else None
        elif question["kind"] == "choice" and answer not in question["options"]:
            answer = None
        if answer is not None:
            typed[question["id"]] = answer
    return typed
