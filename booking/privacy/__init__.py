"""LGPD: retention of personal data, the lawyer's copy of their data, the privacy page."""
