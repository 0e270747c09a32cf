"""iCalendar building (RFC 5545 and iTIP): pure, no Flask and no database."""
