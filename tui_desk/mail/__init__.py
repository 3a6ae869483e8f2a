"""Mail layer: MIME parsing, threading, mail sources (and later IMAP/SMTP)."""
