"""Analytics over the booking lake: the KPI views of ``sql/`` (Trino, the dialect Athena runs),
run offline on DuckDB through sqlglot, and the report, workbook and dashboards built from it."""
