"""Watch parties: synchronized playback, shared by every gateway instance.

``state`` is the pure state machine, ``store`` keeps it (memory or Redis), ``live`` applies
commands and publishes the result, ``socket`` answers party messages on ``/ws``. ``clock`` and
``drift`` are the client's half (clock sync, drift correction), used by the reference client in
``client`` with the simulated player of ``player``.
"""
