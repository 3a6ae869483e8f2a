"""tui_desk: a helpdesk inbox that lives in the terminal."""

__version__ = "0.1.0"
