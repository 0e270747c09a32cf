"""Writes docs/diretorio-exemplo/: a state-sized directory in the import's CSV format.

79 comarcas (Mato Grosso's), 300 units, their channels and 400 magistrates, with
fictional codes, addresses and people. Run `python -m bench.directory_sample` to
write it again; the files are committed, as a court's IT would start from them.
"""

from __future__ import annotations

import random
from pathlib import Path

from booking.courts.directory_file import write_csv

COMARCAS = [
    "Cuiabá", "Várzea Grande", "Rondonópolis", "Sinop", "Tangará da Serra", "Cáceres",
    "Barra do Garças", "Primavera do Leste", "Sorriso", "Lucas do Rio Verde", "Alta Floresta",
    "Pontes e Lacerda", "Juína", "Colíder", "Nova Mutum", "Campo Novo do Parecis",
    "Guarantã do Norte", "Jaciara", "Mirassol d'Oeste", "Diamantino", "Água Boa", "Juara",
    "Peixoto de Azevedo", "Campo Verde", "Chapada dos Guimarães", "Poconé", "Barra do Bugres",
    "Alto Araguaia", "Alto Garças", "Alto Taquari", "Araputanga", "Arenápolis", "Aripuanã",
    "Brasnorte", "Campinápolis", "Canarana", "Cláudia", "Colniza", "Comodoro", "Cotriguaçu",
    "Dom Aquino", "Feliz Natal", "Guiratinga", "Itaúba", "Itiquira", "Jauru", "Juscimeira",
    "Marcelândia", "Matupá", "Nobres", "Nortelândia", "Nova Canaã do Norte",
    "Nova Monte Verde", "Nova Ubiratã", "Nova Xavantina", "Novo São Joaquim", "Paranaíta",
    "Paranatinga", "Pedra Preta", "Porto Alegre do Norte", "Porto dos Gaúchos",
    "Porto Esperidião", "Poxoréu", "Querência", "Ribeirão Cascalheira", "Rio Branco",
    "Rosário Oeste", "Santo Antônio do Leverger", "São Félix do Araguaia",
    "São José do Rio Claro", "São José dos Quatro Marcos", "Sapezal", "Tabaporã", "Tapurah",
    "Terra Nova do Norte", "Vera", "Vila Bela da Santíssima Trindade", "Vila Rica", "Acorizal",
]
UNIT_KINDS = ["Vara Cível", "Vara Criminal", "Vara de Família e Sucessões",
              "Vara da Fazenda Pública", "Juizado Especial Cível", "Vara da Infância e Juventude",
              "Vara de Execuções Penais", "Juizado Especial Criminal"]
FIRST = ["Ana", "Bruno", "Carla", "Daniel", "Eduarda", "Fábio", "Gabriela", "Henrique",
         "Isabela", "João", "Karina", "Luís", "Mariana", "Nelson", "Olívia", "Paulo", "Renata",
         "Sérgio", "Tatiana", "Vinícius"]
LAST = ["Souza", "Lima", "Oliveira", "Pereira", "Costa", "Almeida", "Ribeiro", "Carvalho",
        "Gomes", "Martins", "Araújo", "Barbosa", "Rocha", "Dias", "Teixeira", "Moreira"]


def build(seed: int = 2027) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    tables: dict[str, list[dict]] = {"comarcas": [], "unidades": [], "canais": [],
                                     "magistrados": []}
    for index, name in enumerate(COMARCAS, start=1):
        tables["comarcas"].append({"nome": name, "codigo_foro": f"{index * 7 % 10000:04d}",
                                   "ativa": "sim"})
    # Bigger comarcas get more units: 300 in all.
    weights = [12, 8, 7, 6, 5, 5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3] + [1] * (len(COMARCAS) - 16)
    counts = [3 * w for w in weights]
    while sum(counts) > 300:
        counts[counts.index(max(counts))] -= 1
    while sum(counts) < 300:
        counts[counts.index(min(counts))] += 1
    unit_number = 0
    for comarca, count in zip(COMARCAS, counts, strict=True):
        area = "65" if COMARCAS.index(comarca) % 2 == 0 else "66"
        for position in range(count):
            unit_number += 1
            kind = UNIT_KINDS[position % len(UNIT_KINDS)]
            ordinal = position // len(UNIT_KINDS) + 1
            code = f"MT{unit_number:05d}"
            mailbox = f"vara{unit_number}@exemplo.tjmt.jus.br"
            tables["unidades"].append({
                "codigo": code, "nome": f"{ordinal}ª {kind} de {comarca}", "comarca": comarca,
                "grau": 1, "email": mailbox, "endereco": f"Fórum de {comarca}, sala {position + 1}",
                "ativa": "sim"})
            tables["canais"].extend([
                {"codigo_unidade": code, "tipo": "telefone",
                 "valor": f"({area}) 3{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                 "horario": "Segunda a sexta, 12h às 19h", "ordem": 0},
                {"codigo_unidade": code, "tipo": "email", "valor": mailbox, "horario": "",
                 "ordem": 1},
                {"codigo_unidade": code, "tipo": "agendamento", "valor": "Agenda pública",
                 "horario": "", "ordem": 2},
            ])
    units = tables["unidades"]
    for number in range(1, 401):
        unit = units[(number - 1) % len(units)]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        feminine = first.endswith("a")
        tables["magistrados"].append({
            "email": f"magistrado{number}@exemplo.tjmt.jus.br", "nome": f"{first} {last}",
            "cargo": "Juíza de Direito" if feminine else "Juiz de Direito",
            "codigo_unidade": unit["codigo"], "fuso": "America/Cuiaba",
            "publica_agenda": "sim", "ativo": "sim"})
    return tables


def main() -> None:
    folder = Path(__file__).resolve().parent.parent / "docs" / "diretorio-exemplo"
    folder.mkdir(parents=True, exist_ok=True)
    for kind, rows in build().items():
        (folder / f"{kind}.csv").write_bytes(write_csv(kind, rows))
    print(f"written in {folder}")


if __name__ == "__main__":
    main()
