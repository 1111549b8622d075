"""Reports benchmark: a month's report over two years of history on PostgreSQL."""

from bench.reports.run import main

main()
