"""A believable court of Mato Grosso for development and demonstrations.

Every name of a person here is fictional. Loading twice changes nothing:
the second run sees the demo court and stops.
"""

from __future__ import annotations

from datetime import time

from flask import current_app
from sqlalchemy import func, select

from .accounts.models import User
from .accounts.service import create_user
from .availability.models import AvailabilityRule, WeeklyWindow
from .availability.service import publish_all
from .courts.models import Channel, Comarca, Magistrate, Unit
from .extensions import db

HOURS = "Segunda a sexta, das 12h às 19h"

# comarca, area code, e-mail prefix, first-instance units
COMARCAS = [
    ("Cuiabá", "65", "cba", ["1ª Vara Cível", "2ª Vara Cível", "3ª Vara Criminal",
                              "1ª Vara de Família e Sucessões", "Vara Especializada da Infância e Juventude",
                              "2ª Vara da Fazenda Pública"]),
    ("Várzea Grande", "65", "vgd", ["1ª Vara Cível", "2ª Vara Criminal", "Vara de Família"]),
    ("Rondonópolis", "66", "roo", ["1ª Vara Cível", "2ª Vara Criminal", "3ª Vara de Família"]),
    ("Sinop", "66", "snp", ["1ª Vara Cível", "3ª Vara Criminal"]),
    ("Cáceres", "65", "cac", ["2ª Vara Cível", "1ª Vara Criminal"]),
    ("Tangará da Serra", "65", "tgs", ["1ª Vara Cível"]),
    ("Barra do Garças", "66", "bag", ["2ª Vara Cível"]),
    ("Primavera do Leste", "66", "pvl", ["1ª Vara"]),
    ("Sorriso", "66", "srs", ["2ª Vara Cível"]),
    ("Alta Floresta", "66", "atf", ["1ª Vara"]),
    ("Lucas do Rio Verde", "65", "lrv", ["Vara Criminal"]),
    ("Juína", "66", "jna", ["Vara Única"]),
]

SECOND_INSTANCE_CHAMBERS = [
    "1ª Câmara de Direito Privado", "2ª Câmara de Direito Privado", "3ª Câmara de Direito Privado",
    "1ª Câmara Criminal", "2ª Câmara Criminal", "1ª Câmara de Direito Público e Coletivo",
    "2ª Câmara de Direito Público e Coletivo",
]

FIRST_NAMES = [
    ("Ana Cristina", "f"), ("Carlos Eduardo", "m"), ("Mariana", "f"), ("João Paulo", "m"),
    ("Luciana", "f"), ("Ricardo", "m"), ("Patrícia", "f"), ("Fernando", "m"),
    ("Juliana", "f"), ("Marcelo", "m"), ("Renata", "f"), ("Gustavo", "m"),
    ("Tatiane", "f"), ("Rodrigo", "m"), ("Cláudia", "f"), ("André Luiz", "m"),
    ("Beatriz", "f"), ("Paulo Sérgio", "m"), ("Helena", "f"), ("Sérgio", "m"),
]
SURNAMES = [
    "Almeida Prado", "Barros Figueiredo", "Campos Rezende", "Duarte Moraes", "Esteves Lima",
    "Fonseca Amaral", "Guimarães Teles", "Henriques Paes", "Leite Bastos", "Macedo Arruda",
    "Nogueira Sampaio", "Oliveira Queiroz", "Pereira Leme", "Rocha Vilela", "Siqueira Matos",
    "Tavares Coelho", "Vasconcelos Brito", "Xavier Cunha", "Zanetti Ramos", "Moura Coutinho",
]

# Weekly patterns: (weekday, start, end, video, in person); 0 is Monday.
PATTERNS = [
    [(1, time(13), time(17), True, True), (3, time(13), time(17), True, True)],
    [(0, time(14), time(18), True, False), (2, time(14), time(18), True, False)],
    [(2, time(12, 30), time(16, 30), True, True), (4, time(13), time(16), False, True)],
    [(1, time(14), time(18, 30), True, False)],
]

DEMO_PASSWORDS = {
    "admin": "demo-admin-2027",
    "corregedoria": "demo-corregedoria-2027",
    "magistrate": "demo-magistrado-2027",
    "assistant": "demo-assessor-2027",
}


class DemoRefused(Exception):
    """The demo court is not loaded, and the message says why."""


def _people():
    """Fictional magistrates' names, stable across runs."""
    for index in range(len(FIRST_NAMES) * len(SURNAMES)):
        first, gender = FIRST_NAMES[index % len(FIRST_NAMES)]
        surname = SURNAMES[(index * 7 + index // len(FIRST_NAMES)) % len(SURNAMES)]
        yield f"{first} {surname}", gender


def load_demo(only_if_empty: bool = False) -> str:
    """Create the demo court and its logins; a summary for the terminal."""
    if db.session.scalar(select(func.count()).select_from(Unit)):
        if only_if_empty:
            raise DemoRefused("O banco já tem unidades; os dados de demonstração não foram carregados.")
        if db.session.scalar(select(User.id).where(User.email == "admin@demo.tjmt.jus.br")):
            return "Os dados de demonstração já estavam carregados; nada mudou.\n" + _logins_text()
        raise DemoRefused("O banco já tem outras unidades; os dados de demonstração não foram carregados.")

    people = _people()
    magistrates: list[Magistrate] = []
    for comarca_name, area_code, prefix, unit_names in COMARCAS:
        comarca = Comarca(name=comarca_name)
        db.session.add(comarca)
        for position, unit_name in enumerate(unit_names):
            unit = _first_instance_unit(comarca, unit_name, area_code, prefix, position)
            judges = 2 if position == 0 and len(unit_names) > 1 else 1
            for _extra in range(judges):
                name, gender = next(people)
                title = "Juíza de Direito" if gender == "f" else "Juiz de Direito"
                magistrates.append(_magistrate(unit, name, title, f"{prefix}.{len(magistrates) + 1}"))
        if comarca_name == "Cuiabá":
            for chamber in SECOND_INSTANCE_CHAMBERS:
                name, gender = next(people)
                title = "Desembargadora" if gender == "f" else "Desembargador"
                unit = _gabinete(comarca, name, title, chamber)
                magistrates.append(_magistrate(unit, name, title, f"des.{len(magistrates) + 1}"))
    # Ten more judges join the busiest units as substitutes, for 40 in all.
    busy_units = [m.unit for m in magistrates if m.unit.instance == 1][:10]
    for unit in busy_units:
        name, gender = next(people)
        title = "Juíza de Direito Substituta" if gender == "f" else "Juiz de Direito Substituto"
        magistrates.append(_magistrate(unit, name, title, f"sub.{len(magistrates) + 1}"))
    db.session.flush()
    # Codes as the court's directory has them, so an export of the demo imports again.
    for index, comarca in enumerate(db.session.scalars(select(Comarca).order_by(Comarca.id))):
        comarca.foro_code = f"{index + 1:04d}"
    for unit in db.session.scalars(select(Unit)):
        unit.code = f"DEMO{unit.id:04d}"

    for index, magistrate in enumerate(magistrates):
        _weekly_availability(magistrate, index)
    for unit in dict.fromkeys(m.unit for m in magistrates):
        unit.channels.append(Channel(kind="booking", value=f"/unidades/{unit.id}",
                                     hours="Horários publicados pelos magistrados", position=4))

    first, second = magistrates[0], magistrates[1]
    create_user(email="admin@demo.tjmt.jus.br", password=DEMO_PASSWORDS["admin"],
                role="admin", name="Administração do sistema")
    create_user(email="corregedoria@demo.tjmt.jus.br", password=DEMO_PASSWORDS["corregedoria"],
                role="corregedoria", name="Corregedoria-Geral da Justiça")
    create_user(email="magistrado@demo.tjmt.jus.br", password=DEMO_PASSWORDS["magistrate"],
                role="magistrate", magistrate_id=first.id)
    create_user(email="assessor@demo.tjmt.jus.br", password=DEMO_PASSWORDS["assistant"],
                role="assistant", name="Assessoria de gabinete", assists=[first.id, second.id])
    db.session.commit()
    publish_all()
    db.session.commit()

    units = db.session.scalar(select(func.count()).select_from(Unit))
    return (
        f"Dados de demonstração carregados: {len(COMARCAS)} comarcas, {units} unidades, "
        f"{len(magistrates)} magistrados.\n" + _logins_text()
    )


def _logins_text() -> str:
    lines = ["Logins de demonstração (só para desenvolvimento):"]
    for role, email in [("admin", "admin@demo.tjmt.jus.br"),
                        ("corregedoria", "corregedoria@demo.tjmt.jus.br"),
                        ("magistrate", "magistrado@demo.tjmt.jus.br"),
                        ("assistant", "assessor@demo.tjmt.jus.br")]:
        lines.append(f"  {role:<13} {email:<32} senha: {DEMO_PASSWORDS[role]}")
    return "\n".join(lines)


def _first_instance_unit(comarca, unit_name, area_code, prefix, position) -> Unit:
    slug = _slug(unit_name)
    unit = Unit(
        name=f"{unit_name} de {comarca.name}" if comarca.name not in unit_name else unit_name,
        comarca=comarca,
        instance=1,
        office_email=f"{prefix}.{slug}@demo.tjmt.jus.br",
        address=f"Fórum da Comarca de {comarca.name}",
    )
    unit.channels = [
        Channel(kind="phone", value=f"({area_code}) 3{position + 6}{position}1-{2000 + position * 37}",
                hours=HOURS, position=0),
        Channel(kind="email", value=unit.office_email, hours="Respostas em até 2 dias úteis",
                position=1),
        Channel(kind="virtual_counter",
                value=f"https://balcaovirtual.demo.tjmt.jus.br/{prefix}-{slug}", hours=HOURS,
                position=2),
    ]
    if position % 2 == 0:
        unit.channels.append(Channel(kind="whatsapp",
                                     value=f"({area_code}) 9{9600 + position}-{1234 + position}",
                                     hours="Segunda a sexta, das 13h às 18h", position=3))
    db.session.add(unit)
    return unit


def _gabinete(comarca, name, title, chamber) -> Unit:
    slug = _slug(name)
    unit = Unit(
        name=f"Gabinete {'da' if title.endswith('a') else 'do'} {title} {name}",
        comarca=comarca,
        instance=2,
        office_email=f"gab.{slug}@demo.tjmt.jus.br",
        address=f"Tribunal de Justiça, Centro Político Administrativo, Cuiabá — {chamber}",
    )
    unit.channels = [
        Channel(kind="phone", value="(65) 3617-3000", hours=HOURS, position=0),
        Channel(kind="email", value=unit.office_email, hours="Respostas em até 2 dias úteis",
                position=1),
    ]
    db.session.add(unit)
    return unit


def _magistrate(unit: Unit, name: str, title: str, mailbox: str) -> Magistrate:
    magistrate = Magistrate(name=name, title=title, unit=unit,
                            email=f"{mailbox}@demo.tjmt.jus.br",
                            timezone=current_app.config["COURT_TIMEZONE"])
    db.session.add(magistrate)
    return magistrate


def _weekly_availability(magistrate: Magistrate, index: int) -> None:
    db.session.add(AvailabilityRule(
        magistrate_id=magistrate.id,
        slot_minutes=(30, 20, 30, 45)[index % 4],
        buffer_minutes=(0, 10, 5, 15)[index % 4],
        min_notice_hours=24,
        horizon_days=60,
        max_per_day=(None, 6, 8, None)[index % 4],
        meeting_url=f"https://videoconferencia.demo.tjmt.jus.br/sala/{magistrate.id}",
        address=magistrate.unit.address,
    ))
    for weekday, start, end, video, in_person in PATTERNS[index % len(PATTERNS)]:
        db.session.add(WeeklyWindow(magistrate_id=magistrate.id, weekday=weekday,
                                    start_time=start, end_time=end, offers_video=video,
                                    offers_in_person=in_person))


def _slug(text: str) -> str:
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_text.lower()).split())
