"""Messaging runtime: CloudEvents envelopes, FIFO channels, idempotent consumers, replies.

This package ships to Lambda on its own: it never imports ``aws_cdk``, ``moto``, ``infra`` or the local cloud.
"""
