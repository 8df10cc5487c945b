"""What each step of the workflows does, behind its Lambda handler.

A handler parses its input into a ``booking_core.workflow`` model, calls one function here and
returns the model it gets back; the AWS services are reached through the adapters of
``booking_core.aws``. Where a decision needs no AWS (reconciling a file's counts, deciding on a
model), it is a pure function of its own, tested without AWS.

- ``source``: the S3 object being ingested (its identity, the booking date in its key)
- ``validate_file``: Validate (claim the object, stream it into staged chunks)
- ``chunks``: Enrich, Score and Deliver of one chunk, and the chunks' delivery receipts
- ``crawl``: StartCrawler and CheckCrawler; ``spice``: RefreshSpice
- ``finalize``: FinalizeFile (reconcile the counts, mark the object done, publish the summary)
- ``quarantine``: QuarantineFile (keep the raw object and why it failed, alert)
- ``model_release``: EvaluateModel and PromoteModel of the retraining workflow
- ``bookings_api``: IngestApi (bookings posted to the HTTP API)
"""
