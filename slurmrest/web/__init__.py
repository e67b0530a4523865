"""HTTP: the routes and the OpenAPI document derived from the registry, content negotiation,
authentication, error documents. Never a byte of Slurm's protocol.

``routing``   path → ``Route`` (operation × version prefix); 404 / 405 with ``Allow``.
``content``   Accept / Content-Type negotiation; JSON and YAML (safe loader) both ways.
``auth``      headers (and a local peer) → ``Identity(user, credential, method)``.
``errors``    the web room's own refusals (401, 404, 405, 406, 413, 415) and the api's
              ``ApiError`` as ``HttpFailure``; anything else is a bug (500, logged). Which
              status a Slurm failure is, is the operations room's (``api.errors``).
``openapi``   the OpenAPI 3.0 document of every route.
``gateway``   ``Gateway``: ``admit`` (headers only: target, auth, route, formats, size) then
              ``respond`` (body, parameters, handler, envelope, one serialisation).
``channel``   Twisted plumbing: a channel that admits at header time (refused bodies are
              never read), a request that never renders HTML, the ``GatewaySite``.

A request's life: ``GatewayChannel.dataReceived`` (a whole bodiless request is parsed in one
go; anything else by Twisted's parser) → ``allHeadersReceived`` → ``Gateway.admit`` → (body
read only if admitted, within ``max_body_size``) → ``GatewayRequest.process`` →
``Gateway.respond`` (an ``async def`` under ``defer.ensureDeferred``, cancelled if the client
goes away) → ``api.runner.run`` (the operation; every Slurm failure an ``ApiError``) →
``{"meta", "errors", **payload}`` serialised once (or taken from a
``Result.cache`` the operation keeps; the envelope's head is serialised once per API
version) → ``GatewayRequest.send``: status line, headers and body in one write. The access
log (``GatewaySite(access_log=...)``, ``--access-log``) is off by default.
"""
