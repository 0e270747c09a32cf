"""The public numbers (`/transparencia`, `GET /api/v1/public/stats`): what the court does
with the complaints it asks for, the scheduled attendance it offers and the urgent requests
it answers, per month, channel and comarca; never a person, never free text."""
