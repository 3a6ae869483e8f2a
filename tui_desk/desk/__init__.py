"""Helpdesk logic over the store: priority, views, snippets, rendering."""
