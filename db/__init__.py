"""How it is stored: connections, migrations, codecs and one module per table group.

Nothing here imports strawberry or starlette.
"""
