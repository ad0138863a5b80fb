"""One module per benchmark. Each offers ``add_arguments(parser)`` (its named options) and
``run(args, report)`` (measures, then publishes its table through the report)."""
