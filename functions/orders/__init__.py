"""Orders service: CreateOrder / CancelOrder commands, sharded by customer; publishes OrderCreated / OrderCancelled."""
