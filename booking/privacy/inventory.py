"""Every column that can hold personal data, and what happens to it.

PERSONAL_DATA is the public's data (lawyers, reporters): the retention job removes or
pseudonymises it (service.anonymize_expired). KEPT is the court's own people and places,
held while they serve (a magistrate's name and e-mail are public anyway, a staff account
is needed to sign in), and columns whose name sounds personal but hold none.
tests/test_retention.py fails when a column of a personal kind (by its name or its
free-text type) is in neither list, so that a new one cannot slip past retention; the
README's LGPD section repeats PERSONAL_DATA.
"""

import re

PERSONAL_DATA = {
    "booking.lawyer_name": "substituído por [removido] RETENTION_DAYS após o atendimento",
    "booking.lawyer_oab": "substituído por [removido]",
    "booking.lawyer_email": "substituído por um endereço .invalid",
    "booking.lawyer_phone": "substituído por [removido]",
    "booking.case_number": "substituído por [removido]",
    "booking.subject": "substituído por [removido]",
    "booking.cancel_reason": "apagado",
    "booking.conflict_reason": "apagado",
    "booking.video_url": "apagado",
    "booking.participants": "apagado",
    "booking.answers": "apagado",
    "waitlist_entry.name": "substituído por [removido] HOLD_RETENTION_DAYS após o fim do período",
    "waitlist_entry.email": "substituído por um endereço .invalid",
    "urgent_request.lawyer_name": "substituído por [removido] RETENTION_DAYS após o pedido",
    "urgent_request.lawyer_oab": "substituído por [removido]",
    "urgent_request.lawyer_email": "substituído por um endereço .invalid",
    "urgent_request.lawyer_phone": "substituído por [removido]",
    "urgent_request.case_number": "substituído por [removido]",
    "urgent_request.reason": "substituído por [removido]",
    "urgent_request.answer": "apagado",
    "complaint.reporter_name": "apagado RETENTION_DAYS após o encerramento "
                               "(ou COMPLAINT_OPEN_RETENTION_DAYS após o registro, se aberta)",
    "complaint.reporter_email": "apagado",
    "complaint.description": "substituído por [removido]",
    "complaint.public_answer": "apagado",
    "complaint_event.note": "apagado com a reclamação",
    "complaint_event.public_answer": "apagado com a reclamação",
    "complaint_event.question": "apagado com a reclamação",
    "complaint_event.reporter_message": "apagado com a reclamação",
    "complaint_attachment.name": "o anexo (registro e arquivo) é excluído com a reclamação",
    "outbox_message.recipients": "esvaziado OUTBOX_BODY_RETENTION_DAYS após o envio",
    "outbox_message.subject": "substituído por [removido]",
    "outbox_message.body_text": "substituído por [removido]",
    "outbox_message.body_html": "apagado",
    "outbox_message.ics": "apagado",
    "outbox_message.payload": "apagado (o link de gestão já ao enviar)",
    "audit_entry.actor": "advogados viram pseudônimos RETENTION_DAYS após o registro",
    "audit_entry.details": "textos livres sobre agendamentos, pedidos e reclamações "
                           "substituídos por [removido]",
    "idempotency_record.response_body": "apagado IDEMPOTENCY_TTL_HOURS após o pedido",
}

KEPT = {
    "staff_user.email": "conta de servidor, enquanto ativa",
    "staff_user.name": "conta de servidor",
    "staff_user.oidc_subject": "identificador no provedor do tribunal",
    "magistrate.name": "dado funcional público",
    "magistrate.title": "dado funcional público",
    "magistrate.email": "dado funcional",
    "magistrate.notes": "orientações do gabinete ao público",
    "unit.name": "unidade do tribunal",
    "unit.office_email": "e-mail funcional da unidade",
    "unit.address": "endereço da unidade",
    "unit.search_text": "nomes da unidade, da comarca e dos magistrados, para a busca",
    "comarca.name": "comarca",
    "availability_rule.meeting_url": "sala do gabinete",
    "availability_rule.address": "local de atendimento",
    "availability_exception.reason": "motivo de agenda do magistrado",
    "court_closure.reason": "motivo de fechamento do fórum",
    "court_closure.bookings_reason": "motivo do cancelamento escrito aos advogados pela "
                                     "administração, sem dado pessoal",
    "busy_source.url": "calendário do magistrado",
    "busy_source.username": "usuário do calendário do magistrado",
    "complaint.reporter_role": "papel (advogado, parte...), sem identificar",
    "outbox_message.message_id": "identificador técnico do e-mail",
    "outbox_message.ics_method": "REQUEST ou CANCEL, sem dado pessoal",
    "staff_user.recovery_code_hashes": "resumos dos códigos de recuperação do servidor",
    "audit_entry.actor_user_id": "servidor que agiu (responsabilização)",
    "complaint_event.actor_id": "servidor que agiu (responsabilização)",
    "urgent_request.answer_due_at": "prazo de resposta, sem dado pessoal",
    "availability_rule.accepted_requesters": "tipos de solicitante que a agenda aceita",
    "availability_rule.questions": "perguntas do gabinete no formulário",
    "waitlist_entry.offered": "ids dos horários oferecidos",
    "waitlist_entry.told_gone": "ids dos horários já preenchidos",
    "webhook_subscriber.name": "sistema do tribunal que recebe eventos",
    "integration_key.name": "sistema do tribunal que agenda diretamente",
    "webhook_subscriber.url": "endereço de um sistema do tribunal",
    "webhook_subscriber.events": "tipos de evento que o sistema recebe",
}

# Column names that say "a person's data may be here".
PERSONAL_KIND = re.compile(
    r"(^|_)(name|email|phone|oab|cpf|reason|description|notes?|answer|subject|case|actor"
    r"|details|body|recipients?|address|url|payload|username|contact|comment|title|ics)(_|$)")
