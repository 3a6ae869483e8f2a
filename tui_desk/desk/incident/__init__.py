"""Incident mode (issue 16; the seed's plan A / plan B): when something breaks for many customers,
every new mail about it gets "we know, we're on it" (plan A) instead of the normal
acknowledgement, and its conversations are tagged together; once fixed, every affected customer
gets "it's fixed, here's what happened" (plan B).

Modules: record (the incident, its events, its members and IMAP keywords: what the others
share), ack (plan A, on the rules' path), fixed (plan B: the per-customer plan of the 'fixed'
mail and its sending), for_app (the app's words: DeskService through desk.measuring). Each is
imported by its own name: this package re-exports nothing.
"""
