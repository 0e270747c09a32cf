"""What is wrong or risky in the settings, said before a start (`flask --app wsgi check`).

Pure: it reads a mapping of settings (the app's config) and the number of web workers, and
returns findings in Portuguese and English. Errors make the command exit non-zero and stop
gunicorn's start (gunicorn.conf.py runs the same check). A missing SECRET_KEY never gets this far:
the app itself refuses to load without one.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import ip_network
from typing import NamedTuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import holidays

from .bookings.video import PROVIDERS as VIDEO_PROVIDERS
from .security import PASSWORD_HASH_PROFILES


class Finding(NamedTuple):
    level: str  # "error" stops a start; "warning" is worth a look
    portuguese: str
    english: str


def findings(config: Mapping, workers: int) -> list[Finding]:
    found: list[Finding] = []
    production = config.get("ENV") == "production"
    database = str(config.get("SQLALCHEMY_DATABASE_URI", ""))

    if workers > 1 and config.get("RATELIMIT_ENABLED") and \
            str(config.get("RATELIMIT_STORAGE_URI")).startswith("memory://"):
        # 10 sign-ins a minute would become 10 per worker.
        found.append(Finding(
            "error", f"RATELIMIT_STORAGE_URI=memory:// com {workers} workers: cada worker "
                     "contaria seus próprios limites. Use um armazenamento compartilhado "
                     "(redis://...) ou um único worker.",
            "Each worker would count its own rate limits: use a shared storage such as "
            "redis:// or a single worker."))
    if database.startswith("sqlite") and production:
        one_machine = workers <= 1 or config.get("SQLITE_SINGLE_MACHINE")
        found.append(Finding(
            "warning" if one_machine else "error",
            "SQLite em produção: serve uma só máquina (SQLITE_SINGLE_MACHINE=true confirma que "
            "todos os workers rodam nela); para mais, use PostgreSQL.",
            "SQLite in production serves one machine (SQLITE_SINGLE_MACHINE=true says every "
            "worker runs on it); beyond that, use PostgreSQL."))
    if config.get("MAIL_USERNAME") and not (config.get("MAIL_USE_TLS") or config.get("MAIL_USE_SSL")):
        found.append(Finding(
            "error", "Senha do servidor de e-mail enviada sem TLS: ative MAIL_USE_TLS ou MAIL_USE_SSL.",
            "Mail credentials would travel without TLS: set MAIL_USE_TLS or MAIL_USE_SSL."))
    if urlsplit(str(config.get("PUBLIC_BASE_URL", ""))).scheme != "https":
        found.append(Finding(
            "error" if production else "warning",
            "PUBLIC_BASE_URL não é https: os links dos e-mails levariam tokens sem criptografia.",
            "PUBLIC_BASE_URL is not https: links in e-mails would carry tokens in the clear."))
    store = config.get("COMPLAINT_FILES_STORE", "local")
    if store not in ("local", "s3") or (store == "s3" and not config.get("COMPLAINT_S3_BUCKET")):
        found.append(Finding(
            "error", "COMPLAINT_FILES_STORE deve ser local ou s3 (com COMPLAINT_S3_BUCKET): os "
                     "anexos das reclamações não teriam onde ficar.",
            "COMPLAINT_FILES_STORE must be local or s3 (with COMPLAINT_S3_BUCKET): complaint "
            "files would have nowhere to go."))
    if int(config.get("RETENTION_DAYS") or 0) <= 0:
        found.append(Finding(
            "error", "RETENTION_DAYS desligado: dados pessoais seriam guardados para sempre (LGPD).",
            "RETENTION_DAYS is off: personal data would be kept forever (LGPD)."))
    password_roles = [r for r in str(config.get("PASSWORD_LOGIN_ROLES", "")).split(",") if r.strip()]
    if not password_roles and not config.get("OIDC_ISSUER"):
        found.append(Finding(
            "error", "Ninguém conseguiria entrar: login por senha desligado e nenhum provedor "
                     "de identidade (OIDC_ISSUER).",
            "Nobody could sign in: password login is off and there is no identity provider."))
    profile = config.get("PASSWORD_HASH_PROFILE")
    if profile not in PASSWORD_HASH_PROFILES or (production and profile == "CHEAPEST"):
        found.append(Finding(
            "error", f"PASSWORD_HASH_PROFILE deve ser RFC_9106_LOW_MEMORY ou RFC_9106_HIGH_MEMORY "
                     f"(recebido: {profile}). CHEAPEST é só para os testes: com ele, as senhas "
                     "seriam fáceis de descobrir a partir de uma cópia do banco.",
            "PASSWORD_HASH_PROFILE must be RFC_9106_LOW_MEMORY or RFC_9106_HIGH_MEMORY "
            "(CHEAPEST is for the suite: passwords would be easy to crack from a copy of the "
            "database)."))
    issuer = str(config.get("OIDC_ISSUER") or "")
    if issuer and (not config.get("OIDC_CLIENT_ID") or (
            production and urlsplit(issuer).scheme != "https")):
        found.append(Finding(
            "error", "OIDC_ISSUER precisa de OIDC_CLIENT_ID e, em produção, de um endereço "
                     "https: sem eles, ninguém entraria pelo login do tribunal.",
            "OIDC_ISSUER needs OIDC_CLIENT_ID and, in production, an https address: nobody "
            "could sign in through the court's identity provider."))
    zone = str(config.get("COURT_TIMEZONE") or "")
    if not _is_zone(zone):
        found.append(Finding(
            "error", f"COURT_TIMEZONE não é um fuso horário conhecido (recebido: {zone}); use um "
                     "nome da base IANA, como America/Cuiaba.",
            "COURT_TIMEZONE is not an IANA time zone (for example America/Cuiaba)."))
    subdivision = config.get("HOLIDAY_SUBDIVISION", "MT")
    if subdivision not in holidays.Brazil.subdivisions:
        found.append(Finding(
            "error", f"HOLIDAY_SUBDIVISION deve ser a sigla de um estado (recebido: "
                     f"{subdivision}): os feriados estaduais decidem os dias sem expediente.",
            "HOLIDAY_SUBDIVISION must be a Brazilian state's code: its holidays close days."))
    video = config.get("VIDEO_PROVIDER", "fixed")
    if video not in VIDEO_PROVIDERS:
        # every video booking would fail when it asks for its room
        found.append(Finding(
            "error", f"VIDEO_PROVIDER deve ser {' ou '.join(VIDEO_PROVIDERS)} (recebido: {video}): "
                     "os agendamentos por vídeo não teriam sala.",
            f"VIDEO_PROVIDER must be {' or '.join(VIDEO_PROVIDERS)}: video bookings would "
            f"have no room."))
    secret = str(config.get("JITSI_APP_SECRET") or "")
    if video == "jitsi" and secret and (len(secret.encode()) < 32 or not config.get("JITSI_APP_ID")):
        # HS256 with a short key can be guessed offline from one room link
        found.append(Finding(
            "error", "JITSI_APP_SECRET precisa ter pelo menos 32 caracteres, e JITSI_APP_ID "
                     "(o nome do aplicativo no Jitsi) precisa estar definido: com um segredo "
                     "curto, quem recebe um link de sala poderia descobri-lo e abrir as salas "
                     "de outros atendimentos.",
            "JITSI_APP_SECRET needs at least 32 bytes, and JITSI_APP_ID the application's "
            "name: a short secret can be guessed from one room link, opening other rooms."))
    processes = int(config.get("OUTBOX_SENDER_PROCESSES") or 1)
    connections = int(config.get("OUTBOX_SMTP_CONNECTIONS") or 1)
    if processes > connections:
        # each sender process opens at least one connection of its own
        found.append(Finding(
            "warning", f"OUTBOX_SENDER_PROCESSES={processes} é maior que "
                       f"OUTBOX_SMTP_CONNECTIONS={connections}: cada processo abre ao menos uma "
                       f"conexão, e o servidor de e-mail receberá {processes} ao mesmo tempo.",
            f"Each sender process opens at least one SMTP connection: the mail server will get "
            f"{processes} at once, not {connections}."))
    networks = [part.strip() for part in str(config.get("METRICS_ALLOWED_NETWORKS") or "").split(",")
                if part.strip()]
    malformed = [part for part in networks if not _is_network(part)]
    if malformed:
        found.append(Finding(
            "error", f"METRICS_ALLOWED_NETWORKS tem endereços inválidos: {', '.join(malformed)}.",
            f"METRICS_ALLOWED_NETWORKS has malformed entries: {', '.join(malformed)}."))
    elif not networks and not config.get("METRICS_TOKEN"):
        found.append(Finding(
            "warning", "Ninguém pode ler /metrics: defina METRICS_TOKEN ou "
                       "METRICS_ALLOWED_NETWORKS para o monitoramento.",
            "Nobody may read /metrics: set METRICS_TOKEN or METRICS_ALLOWED_NETWORKS."))
    return found


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (LookupError, ValueError):
        return False
    return bool(name)


def _is_network(text: str) -> bool:
    try:
        ip_network(text, strict=False)
    except ValueError:
        return False
    return True
