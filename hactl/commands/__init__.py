"""One module per `hactl` sub-command family; each exports `register(app)`.

The root CLI (hactl/cli.py) imports a module only when one of its commands runs, and
lists the commands from its table `COMMANDS`; a module that the table does not name yet
is still found here and loaded eagerly, and a test says which table line is missing.
"""
