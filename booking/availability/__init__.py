"""Availability rules, exceptions, the court's calendar, and published slots."""
