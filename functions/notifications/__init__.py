"""Notifications service: subscribes to OrderCreated and records the confirmation sent to the customer."""
