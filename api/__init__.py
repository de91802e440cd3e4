"""The HTTP layer of dancepose: configuration, request parsing, uploads,
routes and the JSON error envelope. ``server.py`` assembles them."""
