"""The command line, ``./pack <command>``: :mod:`cispack.cli.main` (``test`` and the parser) and one
thin ``cmd_<name>.py`` per subcommand, discovered by :mod:`cispack.cli.commands`. It may import
everything; nothing imports it."""
