"""Shipping-quote responders (scatter-gather): each answers a published quotes.RequestQuote with its own price."""
