"""The pure-NumPy engine: every lab is a plain function or generator over arrays.

Nothing here imports fastapi, pydantic or asyncio; randomness always comes from
an explicit ``np.random.Generator`` seeded by the request.
"""
