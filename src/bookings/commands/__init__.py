"""Sub-commands of the ``bookings`` CLI (see ``bookings.cli.COMMAND_MODULES``)."""
