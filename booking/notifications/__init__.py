"""The outbox of the whole service: queueing, rendering, sending and retrying messages."""
