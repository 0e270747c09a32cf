"""A video room for each appointment, from the provider the court chose (VIDEO_PROVIDER).

- `fixed`: the magistrate's own meeting link from the availability settings (one room
  for every appointment, as before);
- `jitsi`: a room with an unguessable name on the court's Jitsi Meet server
  (JITSI_BASE_URL), with a signed JWT in the link when the server is a secure domain
  (JITSI_APP_ID and JITSI_APP_SECRET, as Jitsi's token authentication expects).

Another provider (Microsoft Teams through Graph's onlineMeetings, say) is a class with
`room_for(booking, rule)` returning the join URL, listed in PROVIDERS and configured by
its own settings. A room is made when the booking is, kept across reschedules, and a
cancelled booking's room is never given to another: each booking makes its own.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app


class FixedRoom:
    """The magistrate's standing meeting link."""

    def room_for(self, booking, rule) -> str | None:
        return rule.meeting_url if rule is not None and rule.meeting_url else None


class JitsiRoom:
    """A fresh room on the court's Jitsi Meet for each appointment."""

    def room_for(self, booking, rule) -> str | None:
        config = current_app.config
        base = config["JITSI_BASE_URL"].rstrip("/")
        room = f"{config['JITSI_ROOM_PREFIX']}{secrets.token_hex(12)}"
        url = f"{base}/{room}"
        if config["JITSI_APP_SECRET"]:
            import jwt  # only courts that sign their rooms load PyJWT (about 2 MB per worker)

            claims = {"aud": "jitsi", "iss": config["JITSI_APP_ID"], "sub": base.split("//")[-1],
                      "room": room, "nbf": int((booking["start_at"] - timedelta(hours=1))
                                               .timestamp()),
                      "exp": int((booking["end_at"] + timedelta(days=1)).timestamp())}
            token = jwt.encode(claims, config["JITSI_APP_SECRET"], algorithm="HS256")
            url = f"{url}?jwt={token}"
        return url


PROVIDERS = {"fixed": FixedRoom, "jitsi": JitsiRoom}


def room_for(booking: dict, rule) -> str | None:
    """The join URL of a new room for a video appointment (booking: start_at, end_at)."""
    name = current_app.config["VIDEO_PROVIDER"]
    if name not in PROVIDERS:
        raise RuntimeError(f"VIDEO_PROVIDER {name!r} is not one of {', '.join(PROVIDERS)}")
    return PROVIDERS[name]().room_for(booking, rule)
