"""Campaigns: many AI calls built from a lead filter or a CSV, dialled by our scheduler.

One package, one concept (docs/architecture.md, "Campaigns"). Import each module by its own name;
this package re-exports nothing.
"""
