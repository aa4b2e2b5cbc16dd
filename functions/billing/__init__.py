"""Billing service: subscribes to order events; invoices created orders, credits cancelled ones."""
