"""HTTP: the routes and the OpenAPI document derived from the registry, content negotiation,
authentication, error documents. Never a byte of Slurm's protocol.

``routing``   path → ``Route`` (operation × version prefix); 404 / 405 with ``Allow``.
``content``   Accept / Content-Type negotiation; JSON and YAML (safe loader) both ways.
``auth``      headers (and a local peer) → ``Identity(user, credential, method)``.
``errors``    exceptions → HTTP status + slurmrestd-shaped error entries.
``openapi``   the OpenAPI 3.0 document of every route.
``gateway``   ``Gateway``: ``admit`` (headers only: target, auth, route, formats, size) then
              ``respond`` (body, parameters, handler, envelope, one serialisation).
``channel``   Twisted plumbing: a channel that admits at header time (refused bodies are
              never read), a request that never renders HTML, the ``GatewaySite``.

A request's life: ``GatewayChannel.allHeadersReceived`` → ``Gateway.admit`` → (body read
only if admitted, within ``max_body_size``) → ``GatewayResource.render`` →
``Gateway.respond`` (an ``async def`` under ``defer.ensureDeferred``, cancelled if the client
goes away) → ``{"meta", "errors", **payload}`` serialised once (or taken from a
``Result.cache`` the operation keeps).
"""
