"""Judicial units, their attendance channels and magistrates (the "portal dos canais")."""
