"""Who may call what: every API route and every page, for every kind of caller.

Each expected answer is written once in the tables below; the test fails on any
difference, and also when a route exists that the tables do not list.
Columns: anonymous, a manage token of another booking, the magistrate, another
magistrate, an assistant of another magistrate, the Corregedoria, an admin.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import select

from booking.accounts.models import User
from booking.accounts.service import issue_token
from booking.bookings.models import UrgentRequest
from booking.complaints.models import Complaint, ComplaintAttachment
from booking.extensions import db
from tests.conftest import make_app
from tests.support.factories import (
    DIRECT,
    PASSWORD,
    a_recent_failure,
    make_magistrate,
    make_rules,
    make_staff,
    make_unit,
)
from tests.support.files import screenshot

ACTORS = ("anonymous", "other_token", "magistrate", "other_magistrate", "other_assistant",
          "corregedoria", "admin")


def row(*statuses):
    assert len(statuses) == len(ACTORS)
    return dict(zip(ACTORS, statuses, strict=False))


PUBLIC_200 = row(200, 200, 200, 200, 200, 200, 200)
MAGISTRATE_SIDE = lambda ok: row(401, 401, ok, 403, 403, 403, 403)  # noqa: E731
CORREGEDORIA = lambda ok: row(401, 401, 403, 403, 403, ok, 403)  # noqa: E731
ADMIN = lambda ok: row(401, 401, 403, 403, 403, 403, ok)  # noqa: E731
# A booking of another magistrate answers as one that does not exist: no existence leak.
BOOKING_OWNER = lambda ok: row(401, 404, ok, 404, 404, 404, 404)  # noqa: E731
ROW_OF_MAGISTRATE = lambda ok: row(401, 401, ok, 404, 404, 403, 403)  # noqa: E731

# (method, rule as Flask writes it, path, JSON body, expected statuses)
API = [
    ("POST", "/api/v1/auth/token", "/api/v1/auth/token",
     {"email": "nobody@example.jus.br", "password": "wrong"}, row(401, 401, 401, 401, 401, 401, 401)),
    ("GET", "/api/v1/auth/me", "/api/v1/auth/me", None, row(401, 401, 200, 200, 200, 200, 200)),
    ("DELETE", "/api/v1/auth/token", "/api/v1/auth/token", None, row(401, 401, 204, 204, 204, 204, 204)),
    ("GET", "/api/v1/users", "/api/v1/users", None, ADMIN(200)),
    ("POST", "/api/v1/users", "/api/v1/users", {}, ADMIN(422)),
    ("GET", "/api/v1/users/<int:user_id>", "/api/v1/users/999999", None, ADMIN(404)),
    ("PATCH", "/api/v1/users/<int:user_id>", "/api/v1/users/999999", {}, ADMIN(404)),
    ("POST", "/api/v1/users/<int:user_id>/password-link", "/api/v1/users/999999/password-link",
     None, ADMIN(404)),
    ("GET", "/api/v1/admin/integration-keys", "/api/v1/admin/integration-keys", None, ADMIN(200)),
    ("POST", "/api/v1/admin/integration-keys", "/api/v1/admin/integration-keys", {}, ADMIN(422)),
    ("DELETE", "/api/v1/admin/integration-keys/<int:key_id>", "/api/v1/admin/integration-keys/999999",
     None, ADMIN(404)),
    ("GET", "/api/v1/admin/webhooks", "/api/v1/admin/webhooks", None, ADMIN(200)),
    ("POST", "/api/v1/admin/webhooks", "/api/v1/admin/webhooks", {}, ADMIN(422)),
    ("GET", "/api/v1/admin/webhooks/<int:subscriber_id>", "/api/v1/admin/webhooks/999999", None,
     ADMIN(404)),
    ("PATCH", "/api/v1/admin/webhooks/<int:subscriber_id>", "/api/v1/admin/webhooks/999999", {},
     ADMIN(404)),
    ("POST", "/api/v1/admin/webhooks/<int:subscriber_id>/secret",
     "/api/v1/admin/webhooks/999999/secret", None, ADMIN(404)),
    ("GET", "/api/v1/admin/webhooks/<int:subscriber_id>/deliveries",
     "/api/v1/admin/webhooks/999999/deliveries", None, ADMIN(404)),
    ("GET", "/api/v1/admin/comarcas", "/api/v1/admin/comarcas", None, ADMIN(200)),
    ("POST", "/api/v1/admin/comarcas", "/api/v1/admin/comarcas", {}, ADMIN(422)),
    ("PATCH", "/api/v1/admin/comarcas/<int:comarca_id>", "/api/v1/admin/comarcas/999999", {}, ADMIN(404)),
    ("GET", "/api/v1/admin/units", "/api/v1/admin/units", None, ADMIN(200)),
    ("POST", "/api/v1/admin/units", "/api/v1/admin/units", {}, ADMIN(422)),
    ("GET", "/api/v1/admin/units/<int:unit_id>", "/api/v1/admin/units/{unit}", None, ADMIN(200)),
    ("PATCH", "/api/v1/admin/units/<int:unit_id>", "/api/v1/admin/units/999999", {}, ADMIN(404)),
    ("GET", "/api/v1/admin/units/<int:unit_id>/channels", "/api/v1/admin/units/{unit}/channels",
     None, ADMIN(200)),
    ("PUT", "/api/v1/admin/units/<int:unit_id>/channels", "/api/v1/admin/units/999999/channels",
     {"channels": []}, ADMIN(404)),
    ("GET", "/api/v1/admin/magistrates", "/api/v1/admin/magistrates", None, ADMIN(200)),
    ("POST", "/api/v1/admin/magistrates", "/api/v1/admin/magistrates", {}, ADMIN(422)),
    ("GET", "/api/v1/admin/magistrates/<int:magistrate_id>", "/api/v1/admin/magistrates/{judge}",
     None, ADMIN(200)),
    ("PATCH", "/api/v1/admin/magistrates/<int:magistrate_id>", "/api/v1/admin/magistrates/999999",
     {}, ADMIN(404)),
    ("POST", "/api/v1/admin/directory/import", "/api/v1/admin/directory/import", None, ADMIN(422)),
    ("GET", "/api/v1/admin/directory/export", "/api/v1/admin/directory/export", None, ADMIN(200)),
    ("GET", "/api/v1/units", "/api/v1/units", None, PUBLIC_200),
    ("GET", "/api/v1/public/stats", "/api/v1/public/stats", None, PUBLIC_200),
    ("GET", "/api/v1/cases/<case_number>/units", "/api/v1/cases/0001234-03.2026.8.11.0041/units",
     None, row(404, 404, 404, 404, 404, 404, 404)),  # public; no comarca has that foro here
    ("GET", "/api/v1/units/<int:unit_id>", "/api/v1/units/{unit}", None, PUBLIC_200),
    ("GET", "/api/v1/magistrates", "/api/v1/magistrates", None, PUBLIC_200),
    ("GET", "/api/v1/magistrates/<int:magistrate_id>", "/api/v1/magistrates/{judge}", None, PUBLIC_200),
    ("GET", "/api/v1/magistrates/<int:magistrate_id>/slots", "/api/v1/magistrates/{judge}/slots", None, PUBLIC_200),
    ("GET", "/api/v1/magistrates/<int:magistrate_id>/availability",
     "/api/v1/magistrates/{judge}/availability", None, MAGISTRATE_SIDE(200)),
    ("PUT", "/api/v1/magistrates/<int:magistrate_id>/availability",
     "/api/v1/magistrates/{judge}/availability", "rules", MAGISTRATE_SIDE(200)),
    ("GET", "/api/v1/magistrates/<int:magistrate_id>/form", "/api/v1/magistrates/{judge}/form",
     None, PUBLIC_200),
    ("POST", "/api/v1/magistrates/<int:magistrate_id>/waitlist",
     "/api/v1/magistrates/{judge}/waitlist", {}, row(422, 422, 422, 422, 422, 422, 422)),
    ("POST", "/api/v1/waitlist/<int:entry_id>/confirm", "/api/v1/waitlist/999999/confirm",
     {"code": "000000"}, row(404, 404, 404, 404, 404, 404, 404)),
    ("POST", "/api/v1/waitlist/<int:entry_id>/new-code", "/api/v1/waitlist/999999/new-code",
     None, row(404, 404, 404, 404, 404, 404, 404)),
    ("DELETE", "/api/v1/waitlist/<int:entry_id>", "/api/v1/waitlist/999999", None,
     row(404, 404, 404, 404, 404, 404, 404)),
    ("PUT", "/api/v1/magistrates/<int:magistrate_id>/questions",
     "/api/v1/magistrates/{judge}/questions", {"questions": []}, MAGISTRATE_SIDE(200)),
    ("GET", "/api/v1/magistrates/<int:magistrate_id>/exceptions",
     "/api/v1/magistrates/{judge}/exceptions", None, MAGISTRATE_SIDE(200)),
    ("POST", "/api/v1/magistrates/<int:magistrate_id>/exceptions",
     "/api/v1/magistrates/{judge}/exceptions",
     {"kind": "block", "start": "2020-01-01T08:00:00-04:00", "end": "2020-01-01T09:00:00-04:00"},
     MAGISTRATE_SIDE(422)),
    ("DELETE", "/api/v1/magistrates/<int:magistrate_id>/exceptions/<int:exception_id>",
     "/api/v1/magistrates/{judge}/exceptions/999999", None, MAGISTRATE_SIDE(404)),
    ("GET", "/api/v1/closures", "/api/v1/closures", None, ADMIN(200)),
    ("POST", "/api/v1/closures", "/api/v1/closures",
     {"comarca_id": 999999, "first_day": "2027-03-10", "last_day": "2027-03-10", "reason": "Obras"},
     ADMIN(422)),
    ("GET", "/api/v1/closures/<int:closure_id>", "/api/v1/closures/999999", None, ADMIN(404)),
    ("DELETE", "/api/v1/closures/<int:closure_id>", "/api/v1/closures/999999", None, ADMIN(404)),
    ("POST", "/api/v1/bookings", "/api/v1/bookings", "booking_at_no_slot", row(409, 409, 409, 409, 409, 409, 409)),
    ("GET", "/api/v1/bookings/<int:booking_id>", "/api/v1/bookings/{live}", None, BOOKING_OWNER(200)),
    ("GET", "/api/v1/bookings/<int:booking_id>/data", "/api/v1/bookings/{live}/data", None, BOOKING_OWNER(403)),
    ("POST", "/api/v1/bookings/<int:booking_id>/confirm", "/api/v1/bookings/{live}/confirm",
     {"code": "000000"}, BOOKING_OWNER(403)),  # only the lawyer's token confirms a hold
    ("POST", "/api/v1/bookings/<int:booking_id>/new-code", "/api/v1/bookings/{live}/new-code",
     None, BOOKING_OWNER(403)),  # nor asks for a new code
    ("POST", "/api/v1/bookings/<int:booking_id>/cancel", "/api/v1/bookings/{cancelled}/cancel",
     {"reason": "Teste"}, BOOKING_OWNER(409)),
    ("POST", "/api/v1/bookings/<int:booking_id>/reschedule", "/api/v1/bookings/{live}/reschedule",
     {"start": "2027-03-02T14:07:00-04:00"}, BOOKING_OWNER(409)),
    ("POST", "/api/v1/bookings/<int:booking_id>/attendance", "/api/v1/bookings/{live}/attendance",
     {"status": "attended"}, ROW_OF_MAGISTRATE(409)),
    ("GET", "/api/v1/bookings/<int:booking_id>/invite.ics", "/api/v1/bookings/{live}/invite.ics", None,
     BOOKING_OWNER(200)),
    ("GET", "/api/v1/magistrates/<int:magistrate_id>/bookings", "/api/v1/magistrates/{judge}/bookings",
     None, MAGISTRATE_SIDE(200)),
    ("GET", "/api/v1/magistrates/<int:magistrate_id>/calendar.ics",
     "/api/v1/magistrates/{judge}/calendar.ics?token=not-the-feed-token", None,
     row(404, 404, 404, 404, 404, 404, 404)),
    ("POST", "/api/v1/magistrates/<int:magistrate_id>/calendar-token",
     "/api/v1/magistrates/{judge}/calendar-token", None, MAGISTRATE_SIDE(201)),
    ("GET", "/api/v1/magistrates/<int:magistrate_id>/busy-sources",
     "/api/v1/magistrates/{judge}/busy-sources", None, MAGISTRATE_SIDE(200)),
    ("POST", "/api/v1/magistrates/<int:magistrate_id>/busy-sources",
     "/api/v1/magistrates/{judge}/busy-sources",
     {"kind": "ics", "url": "https://calendario.example.invalid/agenda.ics"}, MAGISTRATE_SIDE(422)),
    ("DELETE", "/api/v1/magistrates/<int:magistrate_id>/busy-sources/<int:source_id>",
     "/api/v1/magistrates/{judge}/busy-sources/999999", None, MAGISTRATE_SIDE(404)),
    ("GET", "/api/v1/outbox", "/api/v1/outbox", None, ADMIN(200)),
    ("POST", "/api/v1/outbox/<int:message_id>/resend", "/api/v1/outbox/999999/resend", None, ADMIN(404)),
    ("POST", "/api/v1/magistrates/<int:magistrate_id>/urgent-requests",
     "/api/v1/magistrates/{judge}/urgent-requests", "urgent", row(201, 201, 201, 201, 201, 201, 201)),
    ("GET", "/api/v1/magistrates/<int:magistrate_id>/urgent-requests",
     "/api/v1/magistrates/{judge}/urgent-requests", None, MAGISTRATE_SIDE(200)),
    ("POST", "/api/v1/urgent-requests/<int:request_id>/answer", "/api/v1/urgent-requests/{answered}/answer",
     {"answer": "De novo."}, ROW_OF_MAGISTRATE(409)),
    ("POST", "/api/v1/complaints", "/api/v1/complaints", "complaint", row(201, 201, 201, 201, 201, 201, 201)),
    ("GET", "/api/v1/complaints", "/api/v1/complaints", None, CORREGEDORIA(200)),
    ("GET", "/api/v1/complaints/<protocol:protocol>", "/api/v1/complaints/{protocol}?token=wrong-token",
     None, row(404, 404, 404, 404, 404, 404, 404)),
    ("POST", "/api/v1/complaints/<protocol:protocol>/messages",
     "/api/v1/complaints/{protocol}/messages?token=wrong-token", {"message": "Mais detalhes."},
     row(404, 404, 404, 404, 404, 404, 404)),
    ("GET", "/api/v1/complaints/<protocol:protocol>/attachments/<int:attachment_id>",
     "/api/v1/complaints/{protocol}/attachments/{attachment}?token=wrong-token", None,
     row(404, 404, 404, 404, 404, 404, 404)),
    ("GET", "/api/v1/complaints/<int:complaint_id>/attachments/<int:attachment_id>",
     "/api/v1/complaints/{complaint}/attachments/{attachment}", None, CORREGEDORIA(200)),
    ("POST", "/api/v1/complaints/<int:complaint_id>/forward", "/api/v1/complaints/{complaint}/forward",
     {}, CORREGEDORIA(422)),
    ("GET", "/api/v1/complaints/<int:complaint_id>", "/api/v1/complaints/{complaint}", None, CORREGEDORIA(200)),
    ("PATCH", "/api/v1/complaints/<int:complaint_id>", "/api/v1/complaints/{complaint}",
     {"status": "resolved"}, CORREGEDORIA(409)),
    ("GET", "/api/v1/complaints/stats", "/api/v1/complaints/stats", None, CORREGEDORIA(200)),
    ("GET", "/api/v1/complaints/export.csv", "/api/v1/complaints/export.csv", None, CORREGEDORIA(200)),
    ("GET", "/api/v1/complaints/export.json", "/api/v1/complaints/export.json", None, CORREGEDORIA(200)),
    ("GET", "/api/v1/attendance/stats", "/api/v1/attendance/stats", None, CORREGEDORIA(200)),
    ("GET", "/api/v1/urgent-requests/stats", "/api/v1/urgent-requests/stats", None,
     CORREGEDORIA(200)),
]

LOGIN = 302  # a stranger is sent to the login page
STAFF_PAGE = lambda ok: row(LOGIN, LOGIN, ok, 403, 403, 403, 403)  # noqa: E731
STAFF_ROW_PAGE = lambda ok: row(LOGIN, LOGIN, ok, 404, 404, 403, 403)  # noqa: E731
DESK_PAGE = lambda ok: row(LOGIN, LOGIN, 403, 403, 403, ok, 403)  # noqa: E731
ADMIN_PAGE = lambda ok: row(LOGIN, LOGIN, 403, 403, 403, 403, ok)  # noqa: E731
NOT_YOURS = row(404, 404, 404, 404, 404, 404, 404)

PAGES = [
    ("GET", "/", "/", PUBLIC_200),
    ("GET", "/healthz", "/healthz", PUBLIC_200),
    ("GET", "/readyz", "/readyz", row(503, 503, 503, 503, 503, 503, 503)),  # no scheduler ran
    # a scraper's token or network only: staff accounts are not scrapers
    ("GET", "/metrics", "/metrics", row(403, 403, 403, 403, 403, 403, 403)),
    ("GET", "/privacidade", "/privacidade", PUBLIC_200),
    ("GET", "/transparencia", "/transparencia", PUBLIC_200),
    ("GET", "/favicon.ico", "/favicon.ico", PUBLIC_200),
    ("GET", "/transparencia.csv", "/transparencia.csv", PUBLIC_200),
    ("GET", "/api/docs", "/api/docs", PUBLIC_200),
    ("GET", "/api/openapi.json", "/api/openapi.json", PUBLIC_200),
    ("GET", "/unidades/<int:unit_id>", "/unidades/{unit}", PUBLIC_200),
    ("GET", "/processo", "/processo", PUBLIC_200),
    ("GET", "/magistrados/<int:magistrate_id>/lista-de-espera", "/magistrados/{judge}/lista-de-espera",
     PUBLIC_200),
    ("POST", "/magistrados/<int:magistrate_id>/lista-de-espera",
     "/magistrados/{judge}/lista-de-espera", row(422, 422, 422, 422, 422, 422, 422)),
    ("GET", "/lista-de-espera/<int:entry_id>", "/lista-de-espera/999999?token=x", NOT_YOURS),
    ("POST", "/lista-de-espera/<int:entry_id>", "/lista-de-espera/999999?token=x", NOT_YOURS),
    ("GET", "/magistrados/<int:magistrate_id>/agenda", "/magistrados/{judge}/agenda", PUBLIC_200),
    ("GET", "/magistrados/<int:magistrate_id>/agendar", "/magistrados/{judge}/agendar?inicio={open_slot}",
     PUBLIC_200),
    ("GET", "/magistrados/<int:magistrate_id>/pedido-urgente", "/magistrados/{judge}/pedido-urgente",
     PUBLIC_200),
    ("GET", "/reclamacoes/nova", "/reclamacoes/nova", PUBLIC_200),
    ("GET", "/agendamentos/recuperar-link", "/agendamentos/recuperar-link", PUBLIC_200),
    # empty: refused beside the field, whoever asks (the links go only to the address)
    ("POST", "/agendamentos/recuperar-link", "/agendamentos/recuperar-link",
     row(422, 422, 422, 422, 422, 422, 422)),
    ("GET", "/reclamacoes/registrada", "/reclamacoes/registrada", PUBLIC_200),
    ("GET", "/reclamacoes/acompanhar", "/reclamacoes/acompanhar", PUBLIC_200),
    ("GET", "/entrar", "/entrar", PUBLIC_200),
    ("GET", "/agendamentos/<int:booking_id>", "/agendamentos/{live}?token={other_token}", NOT_YOURS),
    ("GET", "/agendamentos/<int:booking_id>/confirmacao", "/agendamentos/{live}/confirmacao", NOT_YOURS),
    ("GET", "/agendamentos/<int:booking_id>/confirmar", "/agendamentos/{live}/confirmar?token={other_token}",
     NOT_YOURS),
    ("POST", "/agendamentos/<int:booking_id>/confirmar", "/agendamentos/{live}/confirmar?token={other_token}",
     NOT_YOURS),
    ("POST", "/agendamentos/<int:booking_id>/liberar", "/agendamentos/{live}/liberar?token={other_token}",
     NOT_YOURS),
    ("POST", "/agendamentos/<int:booking_id>/novo-codigo",
     "/agendamentos/{live}/novo-codigo?token={other_token}", NOT_YOURS),
    ("GET", "/agendamentos/<int:booking_id>/cancelar", "/agendamentos/{live}/cancelar?token={other_token}",
     NOT_YOURS),
    ("POST", "/agendamentos/<int:booking_id>/cancelar", "/agendamentos/{live}/cancelar?token={other_token}",
     NOT_YOURS),
    ("GET", "/agendamentos/<int:booking_id>/remarcar", "/agendamentos/{live}/remarcar?token={other_token}",
     NOT_YOURS),
    ("POST", "/agendamentos/<int:booking_id>/remarcar", "/agendamentos/{live}/remarcar?token={other_token}",
     NOT_YOURS),
    ("GET", "/agendamentos/<int:booking_id>/meus-dados", "/agendamentos/{live}/meus-dados?token={other_token}",
     NOT_YOURS),
    ("GET", "/agendamentos/<int:booking_id>/convite.ics",
     "/agendamentos/{live}/convite.ics?token={other_token}", NOT_YOURS),
    ("GET", "/equipe", "/equipe", row(LOGIN, LOGIN, 200, 200, 200, 200, 200)),
    ("GET", "/equipe/magistrados/<int:magistrate_id>/disponibilidade",
     "/equipe/magistrados/{judge}/disponibilidade", STAFF_PAGE(200)),
    ("GET", "/equipe/magistrados/<int:magistrate_id>/atendimentos",
     "/equipe/magistrados/{judge}/atendimentos", STAFF_PAGE(200)),
    ("GET", "/equipe/magistrados/<int:magistrate_id>/pedidos-urgentes",
     "/equipe/magistrados/{judge}/pedidos-urgentes", STAFF_PAGE(200)),
    ("POST", "/equipe/magistrados/<int:magistrate_id>/excecoes",
     "/equipe/magistrados/{judge}/excecoes", STAFF_PAGE(422)),  # empty: refused, shown again
    ("POST", "/equipe/magistrados/<int:magistrate_id>/perguntas",
     "/equipe/magistrados/{judge}/perguntas", STAFF_PAGE(302)),
    ("POST", "/equipe/magistrados/<int:magistrate_id>/excecoes/<int:exception_id>/remover",
     "/equipe/magistrados/{judge}/excecoes/999999/remover", STAFF_PAGE(404)),
    ("POST", "/equipe/atendimentos/<int:booking_id>/cancelar", "/equipe/atendimentos/{cancelled}/cancelar",
     STAFF_ROW_PAGE(302)),
    ("POST", "/equipe/atendimentos/<int:booking_id>/comparecimento",
     "/equipe/atendimentos/{live}/comparecimento", STAFF_ROW_PAGE(302)),
    ("POST", "/equipe/pedidos-urgentes/<int:request_id>/responder",
     "/equipe/pedidos-urgentes/{answered}/responder", STAFF_ROW_PAGE(302)),
    ("GET", "/equipe/magistrados/<int:magistrate_id>/conflitos",
     "/equipe/magistrados/{judge}/conflitos", STAFF_PAGE(200)),
    ("POST", "/equipe/atendimentos/<int:booking_id>/conflito", "/equipe/atendimentos/{live}/conflito",
     STAFF_ROW_PAGE(302)),
    ("GET", "/equipe/fechamentos", "/equipe/fechamentos", ADMIN_PAGE(200)),
    ("GET", "/equipe/fechamentos/<int:closure_id>/andamento", "/equipe/fechamentos/999999/andamento",
     ADMIN_PAGE(404)),
    ("POST", "/equipe/fechamentos/<int:closure_id>/remover", "/equipe/fechamentos/999999/remover",
     ADMIN_PAGE(404)),
    ("GET", "/equipe/contas", "/equipe/contas", ADMIN_PAGE(200)),
    ("GET", "/equipe/chaves-de-integracao", "/equipe/chaves-de-integracao", ADMIN_PAGE(200)),
    ("POST", "/equipe/chaves-de-integracao", "/equipe/chaves-de-integracao",
     ADMIN_PAGE(422)),  # empty: refused beside the field
    ("POST", "/equipe/chaves-de-integracao/<int:key_id>/revogar",
     "/equipe/chaves-de-integracao/999999/revogar", ADMIN_PAGE(404)),
    ("GET", "/equipe/webhooks", "/equipe/webhooks", ADMIN_PAGE(200)),
    ("POST", "/equipe/webhooks", "/equipe/webhooks", ADMIN_PAGE(422)),
    ("GET", "/equipe/webhooks/<int:subscriber_id>", "/equipe/webhooks/999999", ADMIN_PAGE(404)),
    ("POST", "/equipe/webhooks/<int:subscriber_id>/situacao", "/equipe/webhooks/999999/situacao",
     ADMIN_PAGE(404)),
    ("POST", "/equipe/webhooks/<int:subscriber_id>/segredo", "/equipe/webhooks/999999/segredo",
     ADMIN_PAGE(404)),
    ("GET", "/equipe/diretorio", "/equipe/diretorio", ADMIN_PAGE(200)),
    ("POST", "/equipe/diretorio/importar", "/equipe/diretorio/importar", ADMIN_PAGE(302)),
    ("GET", "/equipe/diretorio/exportar.<fmt>", "/equipe/diretorio/exportar.xlsx", ADMIN_PAGE(200)),
    ("GET", "/equipe/diretorio/comarcas/nova", "/equipe/diretorio/comarcas/nova", ADMIN_PAGE(200)),
    ("GET", "/equipe/diretorio/comarcas/<int:comarca_id>", "/equipe/diretorio/comarcas/999999",
     ADMIN_PAGE(404)),
    ("GET", "/equipe/diretorio/unidades/nova", "/equipe/diretorio/unidades/nova", ADMIN_PAGE(200)),
    ("GET", "/equipe/diretorio/unidades/<int:unit_id>", "/equipe/diretorio/unidades/{unit}",
     ADMIN_PAGE(200)),
    ("GET", "/equipe/diretorio/magistrados/novo", "/equipe/diretorio/magistrados/novo",
     ADMIN_PAGE(200)),
    ("GET", "/equipe/diretorio/magistrados/<int:magistrate_id>",
     "/equipe/diretorio/magistrados/{judge}", ADMIN_PAGE(200)),
    ("GET", "/equipe/contas/<int:user_id>", "/equipe/contas/999999", ADMIN_PAGE(404)),
    ("GET", "/equipe/mensagens", "/equipe/mensagens", ADMIN_PAGE(200)),
    ("POST", "/equipe/mensagens/<int:message_id>/reenviar", "/equipe/mensagens/999999/reenviar",
     ADMIN_PAGE(404)),
    ("GET", "/corregedoria", "/corregedoria", DESK_PAGE(200)),
    ("GET", "/corregedoria/reclamacoes/<int:complaint_id>", "/corregedoria/reclamacoes/{complaint}",
     DESK_PAGE(200)),
    ("GET", "/corregedoria/estatisticas", "/corregedoria/estatisticas", DESK_PAGE(200)),
    ("GET", "/corregedoria/exportar.<fmt>", "/corregedoria/exportar.csv", DESK_PAGE(200)),
    ("GET", "/corregedoria/estatisticas/atendimento.csv", "/corregedoria/estatisticas/atendimento.csv",
     DESK_PAGE(200)),
    ("GET", "/corregedoria/reclamacoes/<int:complaint_id>/anexos/<int:attachment_id>",
     "/corregedoria/reclamacoes/{complaint}/anexos/{attachment}", DESK_PAGE(200)),
    ("POST", "/corregedoria/reclamacoes/<int:complaint_id>/encaminhar",
     "/corregedoria/reclamacoes/{complaint}/encaminhar", DESK_PAGE(422)),  # it has no unit
    # The reporter's file: the follow code is the credential, whoever is signed in.
    ("GET", "/reclamacoes/anexos/<int:attachment_id>",
     "/reclamacoes/anexos/{attachment}?protocolo={protocol}&token=wrong-token", NOT_YOURS),
]

# A refused form is shown again (422) at the address it was posted to; a GET of that
# address returns to the form's page (rule, the page it redirects to).
RELOADS = [
    ("/equipe/magistrados/<int:magistrate_id>/excecoes", "/equipe/magistrados/{judge}/disponibilidade"),
    ("/equipe/magistrados/<int:magistrate_id>/perguntas", "/equipe/magistrados/{judge}/disponibilidade"),
    ("/equipe/magistrados/<int:magistrate_id>/calendarios",
     "/equipe/magistrados/{judge}/disponibilidade"),
    ("/corregedoria/reclamacoes/<int:complaint_id>/encaminhar", "/corregedoria/reclamacoes/{complaint}"),
    ("/equipe/diretorio/importar", "/equipe/diretorio"),
    ("/reclamacoes/acompanhar/responder", "/reclamacoes/acompanhar"),
    ("/reclamacoes/registrada/enviar-link", "/reclamacoes/registrada"),
]

# Routes whose answer does not depend on who calls (forms that anyone may post, the
# mechanics of login) are listed with the reason they are out of the matrix.
NOT_IN_MATRIX = {
    ("POST", "/entrar"): "login itself: covered by test_auth",
    ("POST", "/sair"): "logout: anyone may end their own session",
    ("GET", "/entrar/verificacao"): "login's second step: test_accounts",
    ("POST", "/entrar/verificacao"): "login's second step: test_accounts",
    ("GET", "/entrar/ativar-verificacao"): "login's second step: test_accounts",
    ("POST", "/entrar/ativar-verificacao"): "login's second step: test_accounts",
    ("GET", "/entrar/tribunal"): "sign-in with the identity provider: test_oidc",
    ("GET", "/entrar/tribunal/retorno"): "sign-in with the identity provider: test_oidc",
    ("GET", "/definir-senha"): "the e-mailed link is the credential: test_accounts",
    ("POST", "/definir-senha"): "the e-mailed link is the credential: test_accounts",
    ("GET", "/esqueci-a-senha"): "public form: test_accounts",
    ("POST", "/esqueci-a-senha"): "public form: test_accounts",
    ("POST", "/equipe/contas"): "same guard as its GET",
    ("POST", "/equipe/magistrados/<int:magistrate_id>/calendarios"): "same guard as the rules page",
    ("POST", "/equipe/magistrados/<int:magistrate_id>/calendarios/<int:source_id>/remover"):
        "same guard as the rules page",
    ("POST", "/equipe/diretorio/comarcas/nova"): "same guard as its GET",
    ("POST", "/equipe/diretorio/comarcas/<int:comarca_id>"): "same guard as its GET",
    ("POST", "/equipe/diretorio/unidades/nova"): "same guard as its GET",
    ("POST", "/equipe/diretorio/unidades/<int:unit_id>"): "same guard as its GET",
    ("POST", "/equipe/diretorio/magistrados/novo"): "same guard as its GET",
    ("POST", "/equipe/diretorio/magistrados/<int:magistrate_id>"): "same guard as its GET",
    ("POST", "/equipe/contas/<int:user_id>"): "same guard as its GET",
    ("POST", "/magistrados/<int:magistrate_id>/agendar"): "the public booking form: test_booking_pages",
    ("POST", "/magistrados/<int:magistrate_id>/pedido-urgente"): "public form: test_booking_pages",
    ("POST", "/reclamacoes/registrada/enviar-link"): "the filer's own session: test_complaints",
    ("POST", "/reclamacoes/nova"): "public form: test_complaints",
    ("POST", "/reclamacoes/acompanhar/responder"):
        "the follow code is the credential: test_complaint_files",
    ("POST", "/equipe/magistrados/<int:magistrate_id>/disponibilidade"): "same guard as its GET",
    ("POST", "/equipe/fechamentos"): "same guard as its GET",
    ("POST", "/corregedoria/reclamacoes/<int:complaint_id>"): "same guard as its GET",
    **{("GET", rule): "a reload of a refused form: a redirect to its guarded page "
                      "(test_reloading_a_refused_form_returns_to_its_page)"
       for rule, _ in RELOADS},
    ("GET", "/api/docs/assets/<path:filename>"): "static files of the docs page",
    ("GET", "/static/<path:filename>"): "static files",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory, sqlite_template_module):
    """One court with every kind of row, and a way to call as each actor."""
    import shutil

    path = tmp_path_factory.mktemp("matrix") / "booking.db"
    shutil.copyfile(sqlite_template_module, path)
    app = make_app(f"sqlite:///{path}")
    client = app.test_client()
    with app.app_context():
        judge = make_magistrate()
        make_rules(judge)
        other = make_magistrate(unit=make_unit("Vara de Sinop", "Sinop", office_email="s@x.jus.br"),
                                name="Outro Juiz")
        make_staff("magistrate", "magistrate@example.jus.br", magistrate_id=judge.id)
        make_staff("magistrate", "other_magistrate@example.jus.br", magistrate_id=other.id)
        make_staff("assistant", "other_assistant@example.jus.br", magistrate_id=other.id)
        make_staff("corregedoria", "corregedoria@example.jus.br")
        make_staff("admin", "admin@example.jus.br")
        db.session.commit()
        ids = {"judge": judge.id, "unit": judge.unit_id}
    slots = client.get(f"/api/v1/magistrates/{ids['judge']}/slots").get_json()
    lawyer = {"name": "Maria Souza", "oab": "1/MT", "email": "m@example.com", "phone": "(65) 99999-0000"}
    booking = {"magistrate_id": ids["judge"], "mode": "video", "lawyer": lawyer,
               "case_number": "0001234-03.2026.8.11.0041", "subject": "Assunto", "consent": True}
    live, mine, gone = (
        client.post("/api/v1/bookings", headers=DIRECT, json={
            **booking, "start": slots[index]["start"],
            "lawyer": {**lawyer, "oab": f"{index + 1}/MT", "email": f"m{index}@example.com"}}
        ).get_json() for index in range(3))
    client.post(f"/api/v1/bookings/{gone['id']}/cancel", json={},
                headers={"Authorization": f"Bearer {gone['manage_token']}"})
    urgent = {"lawyer": lawyer, "case_number": "0001234-03.2026.8.11.0041",
              "reason": "Réu preso sem audiência de custódia.", "consent": True}
    answered = client.post(f"/api/v1/magistrates/{ids['judge']}/urgent-requests", json=urgent).get_json()
    complaint = {"channel": "phone", "kind": "no_answer", "occurred_at": a_recent_failure(),
                 "description": "Ninguém atende o telefone da secretaria."}
    filed = client.post("/api/v1/complaints", content_type="multipart/form-data", data={
        "complaint": json.dumps(complaint),
        "files": [(io.BytesIO(screenshot()), "tela.png", "image/png")]}).get_json()
    with app.app_context():
        row_ = db.session.get(UrgentRequest, answered["id"])
        row_.status, row_.answer = "answered", "Amanhã às 9h."
        db.session.commit()
        ids.update(live=live["id"], cancelled=gone["id"], answered=answered["id"],
                   complaint=db.session.scalar(select(Complaint.id)), protocol=filed["protocol"],
                   attachment=db.session.scalar(select(ComplaintAttachment.id)),
                   other_token=mine["manage_token"], open_slot=slots[5]["start"])
    bodies = {
        "rules": client.get(f"/api/v1/magistrates/{ids['judge']}/availability", headers=_bearer(app, "magistrate")).get_json(),
        "booking_at_no_slot": {**booking, "start": "2027-03-02T14:07:00-04:00"},
        "urgent": urgent, "complaint": complaint,
    }
    for key in ("timezone", "published_until"):
        bodies["rules"].pop(key)
    return app, ids, bodies


@pytest.fixture(scope="module")
def sqlite_template_module(tmp_path_factory):
    from tests.conftest import migrate_to_head

    path = tmp_path_factory.mktemp("matrix-template") / "template.db"
    migrate_to_head(f"sqlite:///{path}")
    return path


def _bearer(app, actor: str, ids: dict | None = None) -> dict:
    if actor == "anonymous":
        return {}
    if actor == "other_token":
        return {"Authorization": f"Bearer {ids['other_token']}"}
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == f"{actor}@example.jus.br"))
        token, _ = issue_token(user)
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _fill(path: str, ids: dict) -> str:
    from urllib.parse import quote

    return re.sub(r"\{(\w+)\}", lambda m: quote(str(ids[m.group(1)]), safe=""), path)


def test_every_route_is_in_the_matrix(world):
    app, _, _ = world
    listed = {(m, r) for m, r, *_ in API} | {(m, r) for m, r, *_ in PAGES} | set(NOT_IN_MATRIX)
    routes = {(method, rule.rule) for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes - listed == set(), "routes missing from the authorization matrix"
    assert listed - routes == set(), "the matrix lists routes that do not exist"


@pytest.mark.parametrize("method, rule, path, body, expected", API, ids=[f"{m} {r}" for m, r, *_ in API])
def test_api_matrix(world, method, rule, path, body, expected):
    app, ids, bodies = world
    client = app.test_client()
    actual = {}
    for actor in ACTORS:
        headers = _bearer(app, actor, ids)
        json_body = bodies[body] if isinstance(body, str) else body
        response = client.open(_fill(path, ids), method=method, headers=headers,
                               json=json_body if json_body is not None else None)
        actual[actor] = response.status_code
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json", (actor, response.data)
    assert actual == expected


@pytest.mark.parametrize("rule, page", RELOADS)
def test_reloading_a_refused_form_returns_to_its_page(world, rule, page):
    """A refused form comes back (422) at the address it was posted to; a GET of that
    address (a reload, the address bar) goes to its page, not to "method not allowed"."""
    app, ids, _ = world
    path = rule.replace("<int:magistrate_id>", "{judge}").replace("<int:complaint_id>",
                                                                  "{complaint}")
    response = app.test_client().get(_fill(path, ids))
    assert response.status_code == 302
    assert response.headers["Location"] == _fill(page, ids)


@pytest.mark.parametrize("method, rule, path, expected", PAGES, ids=[f"{m} {r}" for m, r, *_ in PAGES])
def test_page_matrix(world, method, rule, path, expected):
    app, ids, _ = world
    actual = {}
    for actor in ACTORS:
        client = app.test_client()
        if actor not in ("anonymous", "other_token"):
            client.log_in(f"{actor}@example.jus.br", PASSWORD)
            assert client.get("/equipe").status_code == 200
        response = (client.post(_fill(path, ids), data={}) if method == "POST"
                    else client.open(_fill(path, ids), method=method))
        actual[actor] = response.status_code
        assert b"Traceback" not in response.data
    assert actual == expected
