"""Reply router: keeps every reply that reaches the reply queue in the reply store, by correlation id."""
