"""One module per `hactl` sub-command family; each exports `register(app)`.

The root CLI discovers the modules here, so adding a command family touches no shared file.
"""
