"""ETL on Spark: the compaction job (``compact_job``, the script AWS Glue runs) and its local
runner (``local``)."""
