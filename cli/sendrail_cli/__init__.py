"""``sendrail``: the command line. It talks only to the public HTTP API, so it works
against the local stack and a deployed one alike."""
