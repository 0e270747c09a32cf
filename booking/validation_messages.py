"""Marshmallow's validation messages in Brazilian Portuguese.

Imported by booking/__init__.py before any schema: fields copy these
messages when they are created, and webargs and flask-smorest create fields
of their own, so a project-wide default is the only switch that reaches all.
"""

from marshmallow import Schema, fields, validate

FIELD_MESSAGES = {
    fields.Field: {
        "required": "Campo obrigatório.",
        "null": "Este campo não pode ser nulo.",
        "validator_failed": "Valor inválido.",
    },
    fields.Raw: {},
    fields.Nested: {"type": "Tipo inválido: esperado um objeto."},
    fields.List: {"invalid": "Deve ser uma lista."},
    fields.String: {"invalid": "Deve ser um texto.", "invalid_utf8": "Texto com codificação inválida."},
    fields.Number: {"invalid": "Deve ser um número.", "too_large": "Número grande demais."},
    fields.Integer: {"invalid": "Deve ser um número inteiro."},
    fields.Boolean: {"invalid": "Deve ser verdadeiro ou falso."},
    fields.DateTime: {
        "invalid": "Data e hora inválidas; use o formato ISO 8601, por exemplo 2027-03-02T14:00:00-04:00.",
        "invalid_awareness": "Informe a data e hora com o fuso horário (por exemplo -04:00).",
        "format": "Não foi possível formatar a data e hora.",
    },
    fields.Date: {"invalid": "Data inválida; use o formato AAAA-MM-DD."},
    fields.Time: {"invalid": "Horário inválido; use o formato HH:MM."},
    fields.Mapping: {"invalid": "Deve ser um objeto."},
    fields.Url: {"invalid": "Endereço (URL) inválido."},
    fields.Email: {"invalid": "Endereço de e-mail inválido."},
    fields.Enum: {"unknown": "Deve ser um de: {choices}."},
}


def install() -> None:
    for field_class, messages in FIELD_MESSAGES.items():
        field_class.default_error_messages = {
            **getattr(field_class, "default_error_messages", {}), **messages,
        }
    Schema._default_error_messages = {
        "type": "Tipo de entrada inválido: esperado um objeto JSON.",
        "unknown": "Campo desconhecido.",
    }
    validate.Range.message_min = "Deve ser {min_op} {{min}}."
    validate.Range.message_max = "Deve ser {max_op} {{max}}."
    validate.Range.message_all = "Deve estar entre {{min}} e {{max}}."
    validate.Range.message_gte = "maior ou igual a"
    validate.Range.message_gt = "maior que"
    validate.Range.message_lte = "menor ou igual a"
    validate.Range.message_lt = "menor que"
    validate.Length.message_min = "Deve ter pelo menos {min} caracteres."
    validate.Length.message_max = "Deve ter no máximo {max} caracteres."
    validate.Length.message_all = "Deve ter entre {min} e {max} caracteres."
    validate.Length.message_equal = "Deve ter exatamente {equal} caracteres."
    validate.OneOf.default_message = "Deve ser um de: {choices}."
    validate.Email.default_message = "Endereço de e-mail inválido."
    validate.URL.default_message = "Endereço (URL) inválido."
    validate.Regexp.default_message = "Formato inválido."
    validate.Equal.default_message = "Deve ser igual a {other}."


install()
