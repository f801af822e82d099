"""The station's plant connection in the app: its settings dialog, and what the live tab opens from the settings
(sinks, coil reader, the review store or the central store's spool)."""
