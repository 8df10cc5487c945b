"""The CLI's fast path: ``bookings validate --out`` writes JSON Lines a block of lines at a time.

The Lambdas validate and enrich a file row by row (``booking_core.pipeline``: the reference);
this package writes the same enriched and rejected records, byte for byte, for a whole file on
a desktop, several times faster, and never ships to a Lambda:

- ``enriched_json``: a record as the concatenation of pieces serialised once per distinct value;
- ``blocks``: a block of lines encoded with one regular expression and a look-up per group, and
  the sequencer that numbers rows, flags duplicates and places blocks in file order;
- ``writer``: a file's blocks in one process (``write_jsonl``);
- ``parallel``: a large plain file's blocks shared between forked workers.

Decoding and row checks are the core's (``booking_core.reader``, ``booking_core.records``): a
block is decoded as the reader decodes it, and a row the block path cannot take as written
goes through the same record checker, so the outcomes cannot differ.
"""
