"""Booking a slot, cancelling and rescheduling it, manage links and limits."""
