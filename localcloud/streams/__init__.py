"""DynamoDB Streams, as Lambda's event source mappings read them: a poller per stream mapping.

What it does, as AWS documents for stream event sources: one batch per shard at a time (the order of the records of
a partition key is kept); a batch that fails is retried from its first record, or, with ``ReportBatchItemFailures``,
from the record the function reports (``batchItemFailures`` with a sequence number); after ``MaximumRetryAttempts``
or once the first record is older than ``MaximumRecordAgeInSeconds`` the batch is skipped and Lambda's failure
record (``DDBStreamBatchInfo``) goes to the on-failure destination (an SQS queue). moto runs no stream mappings.

moto's streams hold one shard per table and keep a shard's records as a list; the poller reads them from moto's
model (moto runs in this process, also behind the server) rather than through ``GetRecords``, because of how moto
cancels a ``TransactWriteItems``: it restores the table from a copy taken before the transaction, while the records
the transaction's puts appended stay in the shard object of the discarded table. An iterator taken through the API
before the cancel reads from that discarded shard: phantom ``INSERT`` records of items that were never written, and
never the records written after it. The poller instead reads, under moto's lock, the records after its checkpoint
from the table's current shard: a cancelled transaction's records are never seen, later records always are.

Example::

    emulator = StreamMappingEmulator(client_factory, functions, spec, queues, region="us-east-1")
    emulator.start()
    ...
    emulator.stop()
"""

from localcloud.streams.poller import StreamMappingEmulator, is_stream_mapping

__all__ = ["StreamMappingEmulator", "is_stream_mapping"]
