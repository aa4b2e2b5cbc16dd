"""The Inventory service.

It records items on command (sharded by owner), replies, and publishes an event for each.
"""
