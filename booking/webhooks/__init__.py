"""Signed webhooks (Standard Webhooks) to the court's other systems, through the outbox."""
