"""Eventlog entries (RFC 18): a dict with ``timestamp``, ``name`` and
``context``."""

import json


class EventLogEvent(dict):
    """One eventlog entry, from a dict or its JSON string."""

    def __init__(self, event):
        if isinstance(event, str):
            event = json.loads(event)
        super().__init__(event)
        self.setdefault("context", {})

    @property
    def name(self):
        """The event's name (``submit``, ``start``, ``finish``, ...)."""
        return self["name"]

    @property
    def timestamp(self):
        """Seconds since the epoch (a float)."""
        return self["timestamp"]

    @property
    def context(self):
        """The event's context (a dict, maybe empty)."""
        return self["context"]

    @property
    def context_string(self):
        """The context as compact JSON ("" when empty)."""
        if not self.context:
            return ""
        return json.dumps(self.context, ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    def __str__(self):
        return f"{self.timestamp:<0.5f}: {self.name} {self.context}"
