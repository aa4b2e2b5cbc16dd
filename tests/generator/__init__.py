"""make service end to end, with an in-process local cloud of its own: outside tests/e2e, whose package-wide local
cloud would share moto with it."""
