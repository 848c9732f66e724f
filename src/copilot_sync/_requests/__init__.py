"""The requests the CLI sends to the SDK, one module per family (tools, permissions, user
input, hooks, commands, elicitation, system-message transforms, sessionFs, plan/auto mode),
routed by the one table in :mod:`.router`. Handlers see the :mod:`.protocol` interfaces,
never ``CopilotSession`` itself."""
