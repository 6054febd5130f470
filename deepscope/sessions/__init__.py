"""Between the engine and the transport: lab adapters, run loops and pacing."""
