"""Contact history benchmark: customer card, history pages, search, due tasks."""
