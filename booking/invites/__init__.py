"""Calendar invites (iCalendar/iMIP) and the mail outbox that delivers them."""
