"""The order saga: ``orders.PlaceOrder`` reserves credit at billing, then stock at inventory, and answers
``approved`` or ``rejected`` (with the step and the code), compensating what was done."""
