"""Channel adapters: translate platform traffic to and from ``dialogs.events``."""
