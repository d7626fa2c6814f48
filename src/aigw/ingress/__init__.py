"""Other vendors' wire formats in front of the gateway, translated to and from the canonical
request (OpenAI's chat shape, `aigw.types.ChatRequest`) so every family serves every format.

Only the Anthropic Messages API for now (`anthropic_request`, `anthropic_response`,
`anthropic_stream`). Pure functions, no I/O: the HTTP routes are in `aigw.api.anthropic`.
"""
