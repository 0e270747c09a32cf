"""URL converters: ids bounded to the database's integer range, and protocol numbers."""

from werkzeug.routing import BaseConverter, IntegerConverter

from .fields import MAX_ID


class RecordIdConverter(IntegerConverter):
    """`<int:...>` that never lets an id larger than the database's integers through."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


class ProtocolConverter(BaseConverter):
    """RC-2027-000123: a complaint's protocol, so /complaints/<int> stays the desk's route."""

    regex = r"RC-\d{4}-\d{6}"


CONVERTER_DOCS = {
    RecordIdConverter: {"type": "integer", "minimum": 0, "maximum": MAX_ID},
    ProtocolConverter: {"type": "string", "pattern": r"^RC-\d{4}-\d{6}$",
                        "example": "RC-2027-000123"},
}


def install(app, api) -> None:
    app.url_map.converters["int"] = RecordIdConverter
    app.url_map.converters["protocol"] = ProtocolConverter
    for converter, schema in CONVERTER_DOCS.items():
        api.register_converter(converter, lambda _converter, schema=schema: dict(schema))
