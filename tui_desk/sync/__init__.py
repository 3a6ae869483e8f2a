"""The engines that move mail between the servers and the store: the IMAP sync of an account
(imap_sync), delivery of the outbox over SMTP (delivery) and the parse pool both use. They
stand above mail/ (protocols and formats) and store/ (SQLite), and below the desk."""
