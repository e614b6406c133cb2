"""Reference clients of the API, shared by the tests, the benchmarks and the docs' examples.

``websocket`` speaks the gateway protocol (resume by epoch and offset), ``party`` joins a watch
party and keeps a player in sync, ``simulation`` is that player with a skewed clock and a laggy
network. They use only the wire types the server defines, never its internals.
"""
