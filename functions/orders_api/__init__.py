"""The orders HTTP API: API Gateway HTTP API (payload 2.0) -> CreateOrder through the transactional outbox."""
